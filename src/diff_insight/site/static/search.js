// diff-insight site search: fetches the locale's search-index.json (relative to the page, from the
// form's data-index) and searches titles, summaries, file paths and change titles, all offline.
(function () {
  "use strict";
  var form = document.querySelector("form.search");
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  if (!form || !input || !list) return;
  var indexUrl = new URL(form.getAttribute("data-index"), document.baseURI);
  var entries = null, loading = null, MAX = 30;

  function load() {
    if (!loading) {
      loading = fetch(indexUrl.href).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (data) {
        entries = (data.r || []).map(function (e) {
          var hay = [e.t, e.s, e.c, e.d].concat(e.f || [], e.x || []).join("\n").toLowerCase();
          return { e: e, hay: hay };
        });
        return entries;
      });
    }
    return loading;
  }

  function message(text) {
    list.textContent = "";
    var li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
    list.hidden = false;
  }

  function show(query) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!terms.length) { list.hidden = true; return; }
    var n = 0;
    for (var i = 0; i < entries.length && n < MAX; i++) {
      var item = entries[i], ok = true;
      for (var j = 0; j < terms.length; j++) {
        if (item.hay.indexOf(terms[j]) < 0) { ok = false; break; }
      }
      if (!ok) continue;
      var e = item.e, li = document.createElement("li"), a = document.createElement("a");
      a.href = new URL(e.u, indexUrl).href;
      a.textContent = e.d + " · " + e.c;
      li.appendChild(a);
      var small = document.createElement("small");
      small.textContent = e.s || e.t;
      li.appendChild(small);
      list.appendChild(li);
      n++;
    }
    if (!n) message(form.getAttribute("data-empty") || "No results.");
    list.hidden = false;
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      load().then(function () { show(input.value); }, function () {
        message(form.getAttribute("data-unavailable") || "Search is unavailable.");
      });
    }, 120);
  });
  input.addEventListener("focus", function () { load().catch(function () {}); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { input.value = ""; list.hidden = true; }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var first = list.querySelector("a");
    if (first) window.location.href = first.href;
  });
})();
