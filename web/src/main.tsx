/**
 * Entry point: styles, then the app, whose root component creates the models and asks `GET /me`. Everything
 * runs from this external module, because the CSP allows no inline script.
 */
import { render } from "preact";
import "./styles.css";
import { App } from "./views/App";

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
