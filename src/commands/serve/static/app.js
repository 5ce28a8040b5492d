// rl-search web reader: keyboard and live progress. The pages work without this file.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  // j/k through the hits, Enter opens; n/N through the marks of a document.
  var hits = Array.prototype.slice.call(document.querySelectorAll("ol.hits > li"));
  var marks = Array.prototype.slice.call(document.querySelectorAll("article mark"));
  var hit = -1, mark = -1;
  function show(list, i, cls) {
    list.forEach(function (el) { el.classList.remove(cls); });
    var el = list[i];
    el.classList.add(cls);
    el.scrollIntoView({ block: "center" });
    return el;
  }
  function step(d) {
    if (!marks.length) return;
    mark = (mark + d + marks.length) % marks.length;
    show(marks, mark, "current");
    var pos = document.getElementById("mark-pos");
    if (pos) pos.textContent = (mark + 1) + " / " + marks.length;
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/" && !typing(e)) {
      var q = document.querySelector("input[name=q]");
      if (q) { e.preventDefault(); q.focus(); q.select(); }
      return;
    }
    if (typing(e)) return;
    if ((e.key === "j" || e.key === "k") && hits.length) {
      hit = e.key === "j" ? Math.min(hit + 1, hits.length - 1) : Math.max(hit - 1, 0);
      show(hits, hit, "current");
    } else if (e.key === "Enter" && hit >= 0 && hits.length) {
      var a = hits[hit].querySelector("a");
      if (a) a.click();
    } else if (e.key === "n") {
      step(1);
    } else if (e.key === "N" || e.key === "p") {
      step(-1);
    }
  });
  var next = document.getElementById("mark-next"), prev = document.getElementById("mark-prev");
  if (next) next.addEventListener("click", function (e) { e.preventDefault(); step(1); });
  if (prev) prev.addEventListener("click", function (e) { e.preventDefault(); step(-1); });
  // Live progress of an update on the status page.
  var progress = document.getElementById("progress");
  if (progress && progress.dataset.running === "true") {
    var timer = setInterval(function () {
      fetch("/api/update", { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (u) {
          if (u.running) {
            progress.textContent = "Updating: " + u.done + " of " + u.total + " links" + (u.failed ? " (" + u.failed + " failed)" : "") + "…";
          } else {
            clearInterval(timer);
            location.reload();
          }
        })
        .catch(function () { clearInterval(timer); });
    }, 700);
  }
})();
