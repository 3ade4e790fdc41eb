/* Ask before leaving an admin change form with unsaved changes.
 *
 * The form's state is noted when the page is ready and compared when the page is about to
 * unload, so any change counts (typed text, a chosen story, a new inline row) and typing a
 * change away again does not. Submitting the form itself (Save, or a workflow button that
 * belongs to it) leaves without asking.
 */
"use strict";

(function () {
  function snapshot(form) {
    const pairs = [];
    for (const [name, value] of new FormData(form)) {
      pairs.push([name, typeof value === "string" ? value.replace(/\r\n/g, "\n") : value.name]);
    }
    return JSON.stringify(pairs);
  }

  function guard(form) {
    const opened = snapshot(form);
    let submitting = false;

    form.addEventListener("submit", function (event) {
      submitting = true;
      // Another handler may still cancel this submission: then the page stays, and so does the guard.
      setTimeout(function () {
        if (event.defaultPrevented) {
          submitting = false;
        }
      });
    });

    window.addEventListener("beforeunload", function (event) {
      if (submitting || snapshot(form) === opened) {
        return;
      }
      event.preventDefault();
      event.returnValue = "";
    });
  }

  function start() {
    const form = document.querySelector("body.change-form #content-main > form[method='post']");
    if (form) {
      guard(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
