/**
 * Hands the page-long models to the views. App creates the one AppModel with `useModel` (so it is disposed
 * if the app is ever unmounted) and provides it here; screen models such as the audit screen's are created
 * by their own view instead, and live only while it is shown.
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { AppModel } from "../models/app";

export const AppContext = createContext<AppModel | null>(null);

/** The app's models; only views rendered inside App's provider may call this. */
export function useApp(): AppModel {
  const app = useContext(AppContext);
  if (app === null) throw new Error("useApp() outside <AppContext.Provider>");
  return app;
}
