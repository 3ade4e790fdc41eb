// The Security page: once a passkey is registered, show it in the list (the page is the server's).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
