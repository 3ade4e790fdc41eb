// The home page's scheduled issues: times in the reader's own zone, and a countdown that
// keeps counting while the page stays open. The server already wrote both; this only
// refreshes them (no inline script: the admin's CSP allows only files).
(function () {
  "use strict";
  var units = [["day", 86400], ["hour", 3600], ["minute", 60]];

  function plural(count, unit) {
    return count + " " + unit + (count === 1 ? "" : "s");
  }

  // As Django's timeuntil: the largest unit, and the next one if it is not zero.
  function span(seconds) {
    for (var i = 0; i < units.length; i++) {
      var count = Math.floor(seconds / units[i][1]);
      if (count > 0) {
        var text = plural(count, units[i][0]);
        var next = units[i + 1];
        var rest = next ? Math.floor((seconds - count * units[i][1]) / next[1]) : 0;
        return rest > 0 ? text + ", " + plural(rest, next[0]) : text;
      }
    }
    return "less than a minute";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var seconds = (Date.parse(element.getAttribute("data-countdown")) - now) / 1000;
      element.textContent = seconds > 0 ? "in " + span(seconds) : "due now: the scheduler publishes it within a minute";
    });
  }

  function localTimes() {
    // Components, not dateStyle/timeStyle: those two refuse a timeZoneName beside them.
    var format = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    document.querySelectorAll("time[data-local-time]").forEach(function (element) {
      var when = Date.parse(element.getAttribute("datetime"));
      if (!isNaN(when)) element.textContent = format.format(new Date(when));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    tick();
    window.setInterval(tick, 30000);
  });
})();
