/**
 * Entry point: styles, then the app, whose root component creates the models and asks `GET /me`. Everything
 * runs from this external module, because the CSP allows no inline script.
 */
import { render } from "preact";
import "./styles.css";
import { App } from "./views/App";
import { applyTheme, storedTheme } from "./models/theme";

// The stored theme is applied before the first render, so a dark page never flashes light.
applyTheme(storedTheme());

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
