// Keeps the card page live: polls the small state endpoint; the server answers 204 until the
// card changes, then the new HTML. Newly filled stamps get a landing animation.
(function () {
  "use strict";
  var live = document.getElementById("card-live");
  if (!live) return;
  var url = live.dataset.stateUrl;
  var delay = 2500;
  function current() { return document.getElementById("card-state"); }
  function poll() {
    var state = current();
    var version = state ? state.dataset.version : "";
    fetch(url + "?v=" + encodeURIComponent(version), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 200) return r.text();
        return null;
      })
      .then(function (html) {
        if (html) {
          var before = state ? parseInt(state.dataset.stamps, 10) : 0;
          var beforeCycle = state ? state.dataset.cycle : "";
          live.innerHTML = html;
          var after = current();
          var from = after.dataset.cycle === beforeCycle ? before : 0;
          after.querySelectorAll(".stamp.filled").forEach(function (el) {
            if (parseInt(el.dataset.n, 10) > from) el.classList.add("just-landed");
          });
          if (navigator.vibrate) navigator.vibrate(80);
        }
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, document.hidden ? delay * 4 : delay); });
  }
  setTimeout(poll, delay);
})();
