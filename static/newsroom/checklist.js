/* The issue page's checklist guides to what it names, and its blocked buttons follow the form.
 *
 * Following a checklist link to a field of the form puts the cursor in it. A workflow button
 * the checklist blocks is disabled as the issue is stored; while the form holds changes the
 * button saves them first and the checklist runs again on what was typed, so it is enabled
 * and says so. Typing the changes away blocks it again.
 */
"use strict";

(function () {
  function focusTarget() {
    const target = location.hash.length > 1 && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.matches("input, textarea, select") && !target.disabled) {
      target.focus({ preventScroll: true });
    }
  }

  function snapshot(form) {
    const pairs = [];
    for (const [name, value] of new FormData(form)) {
      pairs.push([name, typeof value === "string" ? value.replace(/\r\n/g, "\n") : value.name]);
    }
    return JSON.stringify(pairs);
  }

  function followChanges(form) {
    const blocked = Array.from(document.querySelectorAll(".transition-blocked button[disabled]"));
    if (!blocked.length) {
      return;
    }
    const opened = snapshot(form);
    const reasons = blocked.map(function (button) {
      const reason = document.getElementById(button.getAttribute("aria-describedby"));
      return [button, reason, reason ? reason.innerHTML : ""];
    });
    function update() {
      const changed = snapshot(form) !== opened;
      reasons.forEach(function ([button, reason, blockedReason]) {
        button.disabled = !changed;
        if (reason) {
          if (changed) {
            reason.textContent = "Saves your changes first, then checks the checklist again.";
          } else {
            reason.innerHTML = blockedReason; // the server's own text, as it was
          }
        }
      });
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    // The admin's autocompletes tell changes through jQuery only.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(form).on("change", update);
    }
  }

  function start() {
    window.addEventListener("hashchange", focusTarget);
    // Following the same link twice changes no hash: focus on the click too.
    document.querySelectorAll(".checklist a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function () {
        setTimeout(focusTarget);
      });
    });
    focusTarget();
    const form = document.getElementById("issue_form");
    if (form) {
      followChanges(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
