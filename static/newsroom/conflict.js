// A refused save's table of differences: choose the same side for every field at once.
(function () {
  "use strict";
  document.querySelectorAll(".conflict-all").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      document.querySelectorAll(".conflict-fields input[type=radio][value=" + button.value + "]").forEach(function (radio) {
        radio.checked = true;
      });
    });
  });
})();
