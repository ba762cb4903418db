-- pgflow-cpp: installs pgflow 0.8.1's SQL API (schema pgflow) and a pgmq queue into the connected
-- database. Idempotent: running it again changes nothing.
--   psql -v ON_ERROR_STOP=1 -f sql/install.sql                  queue: pgmq extension if >= 1.5 is available, else built-in
--   psql -v ON_ERROR_STOP=1 -v queue=builtin -f sql/install.sql  always the built-in queue
--   psql -v ON_ERROR_STOP=1 -v queue=extension -f sql/install.sql  the pgmq extension or an error
-- The C++ embedded installer parses this file: keep the shape documented in sql/README.md.
\set ON_ERROR_STOP on
-- The lock client::install_schema takes (for its transaction): concurrent installs, by either
-- path, run one after the other. Held by this session until the last line (or its end).
SELECT pg_advisory_lock(hashtext('pgflow-cpp install')) AS pgflow_install_lock \gset
\if :{?queue}
\else
\set queue auto
\endif
SELECT set_config('pgflow.install_queue', :'queue', false) AS install_queue \gset
\ir queue/choose.sql
\if :pgflow_builtin_queue
\ir queue/0000_schema.sql
\ir queue/format_table_name.sql
\ir queue/validate_queue_name.sql
\ir queue/_create_queue.sql
\ir queue/create_non_partitioned.sql
\ir queue/create_unlogged.sql
\ir queue/create.sql
\ir queue/drop_queue.sql
\ir queue/list_queues.sql
\ir queue/send.sql
\ir queue/send_batch.sql
\ir queue/read.sql
\ir queue/read_with_poll.sql
\ir queue/archive.sql
\ir queue/delete.sql
\ir queue/set_vt.sql
\ir queue/pop.sql
\ir queue/purge_queue.sql
\ir queue/metrics.sql
\ir queue/metrics_all.sql
\else
\ir queue/extension.sql
\endif
\ir pgflow/0000_pgflow_cpp_schema.sql
\ir pgflow/0010_pgflow_schema.sql
\ir pgflow/0020_is_valid_slug.sql
\ir pgflow/0030_step_task_record.sql
\ir pgflow/0040_tables_definitions.sql
\ir pgflow/0050_tables_workers.sql
\ir pgflow/0060_tables_runtime.sql
\ir pgflow/0061_upgrade_task_statuses.sql
\ir pgflow/0062_upgrade_step_conditions.sql
\ir pgflow/0065_notifications.sql
\ir pgflow/0066_dashboard_indexes.sql
\ir pgflow/0067_waits.sql
\ir pgflow/0068_flow_control_tables.sql
\ir pgflow/0070_broadcast.sql
\ir pgflow/0080_step_output.sql
\ir pgflow/0100_calculate_retry_delay.sql
\ir pgflow/0110_create_flow.sql
\ir pgflow/0120_add_step.sql
\ir pgflow/0200_start_flow.sql
\ir pgflow/0205_cascade_resolve_conditions.sql
\ir pgflow/0210_cascade_complete_taskless_steps.sql
\ir pgflow/0215_cascade_force_skip_steps.sql
\ir pgflow/0218_queue_tasks.sql
\ir pgflow/0220_start_ready_steps.sql
\ir pgflow/0228_map_input_chunks.sql
\ir pgflow/0230_start_tasks.sql
\ir pgflow/0235_read_and_start_tasks.sql
\ir pgflow/0240_complete_task.sql
\ir pgflow/0244_continue_runs.sql
\ir pgflow/0245_complete_tasks.sql
\ir pgflow/0247_fail_exhausted_step.sql
\ir pgflow/0248_skip_exhausted_step.sql
\ir pgflow/0249_fail_task_internal.sql
\ir pgflow/0250_fail_task.sql
\ir pgflow/0255_fail_task_attempt.sql
\ir pgflow/0260_maybe_complete_run.sql
\ir pgflow/0270_set_vt_batch.sql
\ir pgflow/0280_get_run_with_states.sql
\ir pgflow/0290_start_flow_with_states.sql
\ir pgflow/0300_poll_for_tasks.sql
\ir pgflow/0400_run_control.sql
\ir pgflow/0410_cancel_active_tasks.sql
\ir pgflow/0420_cancel_run.sql
\ir pgflow/0430_retry_run.sql
\ir pgflow/0440_resume_run.sql
\ir pgflow/0450_fail_task_permanently.sql
\ir pgflow/0460_start_flow_idempotent.sql
\ir pgflow/0470_run_status.sql
\ir pgflow/0480_prune_data_older_than.sql
\ir pgflow/0490_start_many.sql
\ir pgflow/0500_set_step_kind.sql
\ir pgflow/0510_waits_runtime.sql
\ir pgflow/0520_signal.sql
\ir pgflow/0530_sleep_task.sql
\ir pgflow/0540_wake_due_waits.sql
\ir pgflow/0605_flow_control_settings.sql
\ir pgflow/0610_run_admission.sql
\ir pgflow/0615_task_admission.sql
\ir pgflow/0616_release_task_slots.sql
\ir pgflow/0620_fair_read.sql
\ir pgflow/0700_schedules.sql
\ir pgflow/0705_cron_field_values.sql
\ir pgflow/0710_cron_next_run.sql
\ir pgflow/0715_schedule_catch_up_checked.sql
\ir pgflow/0720_add_schedule.sql
\ir pgflow/0725_update_schedule.sql
\ir pgflow/0730_set_schedule_enabled.sql
\ir pgflow/0735_remove_schedule.sql
\ir pgflow/0740_run_due_schedules.sql
\ir pgflow/0745_scheduler_lease.sql
\ir pgflow/0900_installed_version.sql
\ir pgflow/0910_installed_queue.sql
\ir pgflow/0950_privileges.sql
\ir pgflow/0990_record_version.sql
SELECT pg_advisory_unlock(hashtext('pgflow-cpp install')) AS pgflow_install_unlocked \gset
