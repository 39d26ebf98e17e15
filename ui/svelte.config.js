// Svelte's compiler options; TypeScript in components is handled by the
// Vite plugin's default preprocessing.
export default {
  compilerOptions: { runes: true },
};
