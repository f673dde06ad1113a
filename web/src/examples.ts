// The editor's example programs (web/examples/): assembly that xk's own
// assembler builds in the page and xk's linker links with crt0 and the user
// library (printf, open, ...); C that xk cc compiles to assembly in the page
// first; and the guest kernel's user image.

import hello from '../examples/hello.s?raw';
import openRead from '../examples/openread.s?raw';
import alarm from '../examples/alarm.s?raw';
import badPointer from '../examples/badpointer.s?raw';
import helloC from '../examples/hello.c?raw';
import openReadC from '../examples/openread.c?raw';
import guestUser from '../../guest/user.S?raw';

export interface Example {
  name: string;
  fileName: string;
  source: string;
  /** The guest kernel's user image: Run builds guest.elf with it and boots it as a VM (`vm guest.elf`). */
  guest?: boolean;
}

export const examples: Example[] = [
  { name: 'hello: a system call by hand', fileName: 'hello.s', source: hello },
  { name: 'open() and read() a file', fileName: 'openread.s', source: openRead },
  { name: 'hello in C (xk cc)', fileName: 'hello.c', source: helloC },
  { name: 'open() and read() in C (xk cc)', fileName: 'openread.c', source: openReadC },
  { name: 'a signal handler (SIGALRM)', fileName: 'alarm.s', source: alarm },
  { name: 'a bad pointer: the kernel says no', fileName: 'badpointer.s', source: badPointer },
  { name: "the guest kernel's user program (in a VM)", fileName: 'guest/user.S', source: guestUser, guest: true },
];
