#pragma once
// pgflow's own example flow (pkgs/example-flows/src/example-flow.ts), step for step:
//
//   new Flow<{ value: number }>({ slug: 'example_flow', maxAttempts: 3 })
//     .step({ slug: 'rootStep' }, (input) => ({ doubledValue: input.run.value * 2 }))
//     .step({ slug: 'normalStep', dependsOn: ['rootStep'] },
//           (input) => ({ doubledValueArray: [input.rootStep.doubledValue] }))
//     .step({ slug: 'thirdStep', dependsOn: ['normalStep'] },
//           (input) => ({ finalValue: input.normalStep.doubledValueArray.length }));
//
// Same slugs, options and JSON, so its registration SQL is byte for byte what pgflow's
// compileFlow prints for the TypeScript flow.

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <vector>

namespace examples {

struct ExampleInput {
    int value = 0;
};
struct RootOutput {
    int doubledValue = 0;
};
struct NormalOutput {
    std::vector<int> doubledValueArray;
};
struct ThirdOutput {
    int finalValue = 0;
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::ExampleInput, value);
BOOST_HANA_ADAPT_STRUCT(examples::RootOutput, doubledValue);
BOOST_HANA_ADAPT_STRUCT(examples::NormalOutput, doubledValueArray);
BOOST_HANA_ADAPT_STRUCT(examples::ThirdOutput, finalValue);

namespace examples {

inline constexpr auto example_flow = pgflow::flow<"example_flow", ExampleInput>(
    pgflow::flow_options{.max_attempts = 3},
    pgflow::step<"rootStep">([](const ExampleInput& run) { return RootOutput{run.value * 2}; }),
    pgflow::step<"normalStep", pgflow::after<"rootStep">>(
        [](const ExampleInput&, const RootOutput& root) { return NormalOutput{{root.doubledValue}}; }),
    pgflow::step<"thirdStep", pgflow::after<"normalStep">>([](const ExampleInput&, const NormalOutput& normal) {
        return ThirdOutput{static_cast<int>(normal.doubledValueArray.size())};
    }));

}  // namespace examples
