import { hideBin } from "yargs/helpers";
import { main } from "./program.ts";

// The SDK warns on every start that its 2027 releases will need Node 22; our lockfile pins the
// SDK, and the README's support matrix says so once instead of every worker start-up.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
const code = await main(hideBin(process.argv));
process.exitCode = code;
