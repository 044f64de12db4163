/* Live progress for long dashboard jobs (code imports, campaigns).
 *
 * Markup: an element with data-progress-url="<JSON endpoint>". The endpoint answers
 * {"percent": 0-100, "status": "...", "done": bool, ...any other fields}.
 * Inside the page, [data-progress-bar] gets its width from "percent", and every
 * [data-progress-field="name"] shows the answer's "name". Polling (every second, or
 * data-progress-interval ms) stops when "done" is true or the status is one of
 * data-progress-stop (default "done,rejected,failed"). With data-progress-reload, the page
 * reloads once at the end so the server can show the full result.
 */
(function () {
  "use strict";

  function start(box) {
    var url = box.getAttribute("data-progress-url");
    var interval = parseInt(box.getAttribute("data-progress-interval"), 10) || 1000;
    var stopOn = (box.getAttribute("data-progress-stop") || "done,rejected,failed").split(",");
    var scope = box.closest("[data-progress-scope]") || document;
    var failures = 0;

    function update(data) {
      var percent = Math.max(0, Math.min(100, Number(data.percent) || 0));
      Array.prototype.forEach.call(scope.querySelectorAll("[data-progress-bar]"), function (bar) {
        bar.style.width = percent + "%";
        var holder = bar.closest("[role=progressbar]");
        if (holder) { holder.setAttribute("aria-valuenow", String(percent)); }
      });
      Array.prototype.forEach.call(scope.querySelectorAll("[data-progress-field]"), function (el) {
        var key = el.getAttribute("data-progress-field");
        if (Object.prototype.hasOwnProperty.call(data, key)) { el.textContent = String(data[key]); }
      });
    }

    function finished(data) {
      return data.done === true || stopOn.indexOf(String(data.status)) >= 0;
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          update(data);
          if (finished(data)) {
            box.removeAttribute("data-progress-url");
            if (box.hasAttribute("data-progress-reload")) { window.location.reload(); }
            return;
          }
          window.setTimeout(poll, interval);
        })
        .catch(function () {
          // A network hiccup: try again, more slowly, and give up after a while.
          failures += 1;
          if (failures < 10) { window.setTimeout(poll, interval * (failures + 1)); }
        });
    }

    window.setTimeout(poll, interval);
  }

  function init() {
    if (!window.fetch) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-url]"), start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
