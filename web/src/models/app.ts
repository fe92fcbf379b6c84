/**
 * The models that live as long as the page: who is logged in, the route, the active wallet, the saved
 * requests, the payment requests, the suggested contacts, the notices, and the wiring between them. The root component creates one AppModel with
 * `useModel` and provides it to the views (views/context.ts); disposing it disposes every part, since
 * createModel captures the effects of the models created inside its factory.
 */
import { createModel } from "@preact/signals";
import { AccountModel } from "./account";
import { ContactsModel } from "./contacts";
import { DirectoryModel } from "./directory";
import { NoticesModel } from "./notices";
import { PendingModel } from "./pending";
import { RequestsModel } from "./requests";
import { RouteModel } from "./route";
import { SessionModel } from "./session";
import { ThemeModel } from "./theme";
import { WalletModel } from "./wallet";

/** Every page-long model of one app instance. */
export const AppModel = createModel(() => {
  const session = new SessionModel();
  const route = new RouteModel();
  const theme = new ThemeModel();
  const notices = new NoticesModel();
  const wallet = new WalletModel();
  const pending = new PendingModel();
  const requests = new RequestsModel();
  const contacts = new ContactsModel();
  const directory = new DirectoryModel();
  const account = new AccountModel({ session, wallet, pending, notices, requests, contacts });
  return { session, route, theme, notices, wallet, pending, requests, contacts, directory, account };
});

export type AppModel = InstanceType<typeof AppModel>;
