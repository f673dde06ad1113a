// The build-time module of vite.config.ts: the user library and programs, base64.
declare module 'virtual:xk-user-programs' {
  interface Prebuilt {
    library: { crt0: { name: string; bytes: string }; members: { name: string; bytes: string }[] };
    programs: { name: string; bytes: string }[];
    /** guest.elf */
    guest: string;
  }
  const prebuilt: Prebuilt;
  export default prebuilt;
}
