// client::start_many: many runs started in one round trip and one transaction, typed and JSON.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <pgflow/dynamic_flow.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace e2e;
namespace flows = e2e::flows;

TEST(start_many, typed_inputs_start_one_run_each_in_order) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    const std::vector<int> inputs{1, 2, 3, 4, 5};
    const auto ids = client.start_many(flows::chain, inputs);
    ASSERT_EQ(ids.size(), inputs.size());
    EXPECT_EQ(std::set<pgflow::run_id>(ids.begin(), ids.end()).size(), ids.size()) << "distinct run ids";
    // Run i has input i: the ids come back in the order of the inputs.
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(client.status(ids[i]).input, boost::json::value(inputs[i]));
    worker_thread worker{db, flows::chain};
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const int n = inputs[i];
        EXPECT_EQ(client.wait(ids[i], 20s),
                  boost::json::parse(R"({"c":")" + std::to_string(n) + ":" + std::to_string((n + 1) * 2) + R"("})"));
    }
}

TEST(start_many, json_inputs_of_a_root_map_and_one_transaction) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::squares);
    auto c = db.connect();
    const std::vector<boost::json::value> inputs{boost::json::parse("[1,2]"), boost::json::parse("[]"),
                                                 boost::json::parse("[3]")};
    const auto ids = client.start_many("e2e_squares", inputs);
    ASSERT_EQ(ids.size(), 3U);
    // One transaction wrote the three runs.
    EXPECT_EQ(scalar(c, "SELECT count(DISTINCT xmin::text) FROM pgflow.runs"), 1);
    worker_thread worker{db, flows::squares};
    EXPECT_EQ(client.wait(ids[0], 20s), boost::json::parse(R"({"square":[1,4]})"));
    EXPECT_EQ(client.wait(ids[1], 20s), boost::json::parse(R"({"square":[]})"));
    EXPECT_EQ(client.wait(ids[2], 20s), boost::json::parse(R"({"square":[9]})"));
}

TEST(start_many, a_refused_input_starts_none_and_names_its_position) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::squares);
    const std::vector<boost::json::value> inputs{boost::json::parse("[1]"), boost::json::parse("7"),
                                                 boost::json::parse("[2]")};
    try {
        client.start_many("e2e_squares", inputs);
        FAIL() << "a root map started with a non-array input";
    } catch (const pgflow::database_error& e) {
        EXPECT_NE(std::string(e.what()).find("input 2 of 3"), std::string::npos) << e.what();
    }
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs"), 0) << "all or none";
    // The client goes on working after the refusal.
    EXPECT_EQ(client.start_many("e2e_squares", {boost::json::parse("[4]")}).size(), 1U);
}

TEST(start_many, nothing_to_start_and_an_unregistered_flow) {
    database db;
    pgflow::client client{db.options()};
    EXPECT_TRUE(client.start_many("e2e_squares", {}).empty());
    try {
        client.start_many("e2e_nowhere", {boost::json::value(1)});
        FAIL() << "started a run of an unregistered flow";
    } catch (const pgflow::error& e) {
        EXPECT_NE(std::string(e.what()).find("not registered"), std::string::npos) << e.what();
    }
}
