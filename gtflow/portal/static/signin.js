/* Sign-in links carry the token in the URL fragment (never sent to the server, never logged):
 * http://127.0.0.1:8765/signin#token=...  -> fill the form, drop the fragment, sign in. */
(function () {
  "use strict";
  var m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash || "");
  if (!m) return;
  var field = document.getElementById("token");
  var form = document.getElementById("signin-form");
  history.replaceState(null, "", window.location.pathname + window.location.search);
  if (!field || !form) return;
  field.value = decodeURIComponent(m[1]);
  form.submit();
})();
