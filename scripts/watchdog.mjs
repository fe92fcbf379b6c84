// Kills the server's process group when the `npm start` process that launched it dies, even by SIGKILL,
// so a restart never finds the port still held by an orphaned wrangler or workerd. The parent holds the
// write end of this process's stdin; when the parent dies, for any reason, the kernel closes it and stdin
// ends. (Polling the parent's pid is not enough: an unreaped zombie still answers `kill(pid, 0)`.)
//   node scripts/watchdog.mjs <server process group id>
const group = Number(process.argv[2]);
const killGroup = () => {
  try {
    process.kill(-group, "SIGKILL");
  } catch {
    // Already gone.
  }
  process.exit(0);
};
process.stdin.on("end", killGroup);
process.stdin.on("close", killGroup);
process.stdin.on("error", killGroup);
process.stdin.resume();
