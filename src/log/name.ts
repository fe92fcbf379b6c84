/** The name of the one transparency log object (src/log-object.ts), in a module the API can import without the runtime. */
export const LOG_OBJECT_NAME = "log";
