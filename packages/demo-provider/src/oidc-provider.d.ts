declare module "oidc-provider" {
  // oidc-provider ships no types; the demo provider uses a small, checked part of its API.
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module
  const Provider: any;
  export default Provider;
}
