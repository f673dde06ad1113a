/* Fixed addresses shared by the native harness and the emulator side of the
 * host-CPU oracle (test/hostOracleCases.ts repeats them). Low addresses, so
 * that the emulator needs only 4 MiB of physical memory in flat mode. */
#define SCRATCH      0x200000  /* data the snippets read and write (r15, rbp, rsp point here) */
#define SCRATCH_SIZE 0x800
#define CODE         0x210000  /* one snippet at a time, followed by its epilogue */
#define CODE_SLOT    512
#define SAVE         0x220000  /* epilogue stores registers here: rax..r15 at +0, rflags at +0x80 */
#define SAVE_IN      0x220400  /* registers to load: rax..r15, then rflags at +0x80 */
#define SAVE_HOST_RSP 0x220100
#define SAVE_RETURN   0x220108 /* the epilogue jumps through this */
#define SAVE_CODE     0x220110 /* where run_case jumps to */
