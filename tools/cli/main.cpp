// The `pgflow` command line, knowing the example flows of examples/flows/. Your own program can
// offer the same commands for your flows with pgflow::cli::main (<pgflow/cli.hpp>).

#include "flows/ai_analysis.hpp"
#include "flows/analyze_website.hpp"
#include "flows/approvals.hpp"
#include "flows/example_flow.hpp"
#include "flows/fraud_screening.hpp"
#include "flows/order_processing.hpp"
#include "flows/text_processing.hpp"

#include <pgflow/cli.hpp>

int main(int argc, char** argv) {
    return pgflow::cli::main(argc, argv, examples::example_flow, examples::text_processing, examples::order_processing,
                             examples::fraud_screening, examples::expense_approval, examples::payout,
                             examples::analyze_website, examples::ai_analysis());
}
