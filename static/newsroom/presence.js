// Beat while this change page is open, and show who else has it open (newsroom/presence.py).
(function () {
  "use strict";
  var box = document.getElementById("presence");
  if (!box) return;
  var list = box.querySelector(".presence-list");
  var url = box.dataset.presenceUrl;
  var seconds = parseInt(box.dataset.beatSeconds, 10) || 30;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function show(others) {
    list.replaceChildren();
    others.forEach(function (other) {
      var item = document.createElement("li");
      item.textContent = other.name + " has been editing this since " + other.since;
      list.appendChild(item);
    });
    box.hidden = others.length === 0;
  }

  function beat() {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer) show(answer.others);
      })
      .catch(function () {});  // A missed beat is repaired by the next one.
  }

  setInterval(beat, seconds * 1000);

  // Leaving (or closing) the page says so; a page kept in the back-forward cache beats again when shown.
  window.addEventListener("pagehide", function () {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    body.append("leaving", "1");
    navigator.sendBeacon(url, body);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) beat();
  });
})();
