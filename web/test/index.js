// Node 24's test runner treats a directory argument as a module to run, not as a folder to search, so
// `node --test web/test/` loads this index, which imports every test file in the folder.
import "./money.test.ts";
import "./text.test.ts";
import "./models-app.test.ts";
import "./models-live.test.ts";
import "./models-pending.test.ts";
import "./models-wallet.test.ts";
import "./models-requests.test.ts";
import "./payments.test.ts";
import "./developers.test.ts";
import "./insights.test.ts";
import "./logcheck-honest.test.ts";
import "./logcheck-witnesses.test.ts";
import "./logcheck-checkpoints.test.ts";
import "./logcheck-history.test.ts";
import "./logcheck-io.test.ts";
import "./webhooks.test.ts";
import "./events.test.ts";
