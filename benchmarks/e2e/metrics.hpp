#pragma once
// CPU accounting for one measurement window.
// Server: the PostgreSQL cluster's processes, read from /proc (the harness runs on the server's
// machine). The postmaster's cutime/cstime already hold every backend that exited, so
// postmaster (self + reaped children) + every live child process = all CPU the cluster spent.
// Client: this process minus the harness's own threads (the coordinator taking snapshots and the
// clients starting runs), i.e. the worker threads, whoever created them (our drivers or
// pgflow::worker).

#include <sys/resource.h>
#include <unistd.h>

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pgflow_bench {

struct proc_times {
    double self = 0;      ///< utime + stime, seconds
    double children = 0;  ///< cutime + cstime (reaped children), seconds
    int ppid = 0;
};

inline bool read_proc_stat(const std::string& path, proc_times& out) {
    std::ifstream f(path);
    std::string line;
    if (!std::getline(f, line)) return false;
    // The command name (field 2) may contain spaces; fields resume after its closing parenthesis.
    auto close = line.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    std::vector<std::string> fields;  // fields[0] is field 3 (state)
    while (rest >> field) fields.push_back(field);
    if (fields.size() < 15) return false;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    out.ppid = std::stoi(fields[1]);
    out.self = (std::stod(fields[11]) + std::stod(fields[12])) / tick;
    out.children = (std::stod(fields[13]) + std::stod(fields[14])) / tick;
    return true;
}

/// Total CPU seconds spent so far by the cluster whose postmaster is `postmaster_pid`.
inline double cluster_cpu_seconds(int postmaster_pid) {
    proc_times pm;
    if (!read_proc_stat("/proc/" + std::to_string(postmaster_pid) + "/stat", pm)) return 0;
    double total = pm.self + pm.children;
    if (DIR* d = opendir("/proc")) {
        while (dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
            proc_times t;
            if (read_proc_stat("/proc/" + name + "/stat", t) && t.ppid == postmaster_pid) total += t.self;
        }
        closedir(d);
    }
    return total;
}

inline int parent_pid_of(int pid) {
    proc_times t;
    return read_proc_stat("/proc/" + std::to_string(pid) + "/stat", t) ? t.ppid : 0;
}

/// CPU seconds of one thread of this process (0 for an unknown thread).
inline double thread_cpu_seconds(int tid) {
    proc_times t;
    return tid > 0 && read_proc_stat("/proc/self/task/" + std::to_string(tid) + "/stat", t) ? t.self : 0;
}

inline double rusage_seconds(int who) {
    rusage u{};
    getrusage(who, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace pgflow_bench
