#include <pgflow/pgflow.hpp>

#include <iostream>
#include <thread>

constexpr auto greet =
    pgflow::flow<"greet", std::string>(pgflow::step<"hello">([](const std::string& name) { return "Hello, " + name; }),
                                       pgflow::step<"shout", pgflow::after<"hello">>(
                                           [](const std::string&, const std::string& hello) { return hello + "!"; }));

int main() {
    pgflow::client client;  // PGFLOW_DATABASE_URL, or PGHOST, PGPORT, … as psql reads them
    client.install_schema();
    client.ensure_registered(greet);
    std::jthread worker([&](std::stop_token stop) { pgflow::worker(client.options(), greet).run(stop); });

    const auto run = client.start(greet, "world");
    std::cout << pgflow::get<"shout">(client.wait(greet, run, std::chrono::seconds(10))) << '\n';
}
