/**
 * Entry point: styles, the model wiring, the first `GET /me`, then the app. Everything runs from this
 * external module, because the CSP allows no inline script.
 */
import { render } from "preact";
import "./styles.css";
import { startAccountSync } from "./models/account";
import { loadMe } from "./models/session";
import { App } from "./views/App";

startAccountSync();
void loadMe();

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
