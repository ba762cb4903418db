#pragma once
// pgflow::task_context, declared: all a flow declaration needs to recognise a handler's trailing
// `const pgflow::task_context&`. A handler that reads its context includes
// <pgflow/task_context.hpp>, which defines it; <pgflow/dsl.hpp> does not, because its
// std::stop_token brings <thread> and <semaphore> (a fifth of the DSL's compile time).

namespace pgflow {

struct task_context;

}  // namespace pgflow
