// The two places where the HTTP tests reach inside the `ws` client, which exposes neither publicly and which
// @types/ws therefore leaves out:
//   - the TCP socket under a WebSocket (`_socket`): pausing it is what a stalled client looks like to the server,
//     because nothing more is read from the connection, while `ws`'s own API can only stop delivering messages;
//   - its frame receiver (`_receiver`): its `conclude` event fires when the server's close frame arrives, while
//     `ws` reports `close` only when the TCP connection ends, which workerd does about 10 s later for a
//     hibernatable socket closed from outside a socket event.
// Both are private fields of ws 8. Keeping them here, typed, means a ws upgrade that renames them fails in one
// place with a message that says so, instead of as a TypeError in the middle of a test.

/**
 * The private fields of a `ws` WebSocket that the tests use (ws 8's names; not part of its public types).
 * @typedef {object} WsPrivate
 * @property {import("node:net").Socket | null} [_socket] the connection, set once the socket has opened
 * @property {import("node:events").EventEmitter | null} [_receiver] the frame parser, set with `_socket`
 */

/**
 * The TCP socket under an open `ws` WebSocket, to pause and resume reading it.
 * @param {import("ws").WebSocket} ws
 * @returns {import("node:net").Socket}
 */
export function tcpSocketOf(ws) {
  const socket = /** @type {WsPrivate} */ (/** @type {unknown} */ (ws))._socket;
  if (!socket) throw new Error("this ws WebSocket has no _socket: not open yet, or ws renamed its private fields");
  return socket;
}

/**
 * The frame receiver of an open `ws` WebSocket; it emits `conclude` (code, reason) when a close frame arrives.
 * @param {import("ws").WebSocket} ws
 * @returns {import("node:events").EventEmitter}
 */
export function frameReceiverOf(ws) {
  const receiver = /** @type {WsPrivate} */ (/** @type {unknown} */ (ws))._receiver;
  if (!receiver) throw new Error("this ws WebSocket has no _receiver: not open yet, or ws renamed its private fields");
  return receiver;
}
