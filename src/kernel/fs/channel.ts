// Wait channels: the objects a process sleeps on while a pipe or the console has
// nothing for it. The file layer never sleeps itself; it only announces, through
// the wakeup function the kernel core installs, that a channel may have changed.

export class WaitChannel {
  constructor(readonly name: string) {}
}

let wakeupHook: (channel: WaitChannel) => void = () => {};

/** Installed by the kernel core: makes runnable every process sleeping on `channel`. */
export function setWakeup(fn: (channel: WaitChannel) => void): void {
  wakeupHook = fn;
}

export function wakeup(channel: WaitChannel): void {
  wakeupHook(channel);
}
