// caseledger console: the live feed (progressive enhancement; every other
// page works without script). Texts come from data attributes of the page,
// events are inserted with textContent only.
"use strict";
(function () {
  var list = document.getElementById("feed");
  var status = document.getElementById("feed-status");
  if (!list || !window.EventSource) { return; }
  var codes = {};
  try { codes = JSON.parse(list.getAttribute("data-codes") || "{}"); } catch (err) { codes = {}; }
  var say = function (key) { if (status) { status.textContent = status.getAttribute("data-" + key) || ""; } };
  say("connecting");
  var es = new EventSource(list.getAttribute("data-stream"));
  es.onopen = function () { say("waiting"); };
  es.onerror = function () { say("lost"); };
  var add = function (e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    var li = document.createElement("li");
    li.setAttribute("data-code", ev.code || ev.name || "");
    var time = document.createElement("span");
    time.textContent = new Date().toLocaleTimeString() + " · ";
    li.appendChild(time);
    var code = document.createElement("span");
    code.className = "code";
    code.textContent = codes[ev.code] || ev.code || ev.name;
    li.appendChild(code);
    li.appendChild(document.createTextNode(" · " + ev.channel + " · "));
    if (ev.pseudonym) {
      var a = document.createElement("a");
      a.href = "/console/case?channel=" + encodeURIComponent(ev.channel) + "&p=" + encodeURIComponent(ev.pseudonym);
      a.textContent = (ev.localRefs && ev.localRefs.length) ? ev.localRefs.join(", ") : ev.pseudonym.slice(0, 8) + "…";
      li.appendChild(a);
      if (ev.held) { li.appendChild(document.createTextNode(" (" + list.getAttribute("data-held") + ")")); }
    } else if (ev.memberState) {
      li.appendChild(document.createTextNode(ev.memberState + " " + ev.year));
    }
    li.appendChild(document.createTextNode(" · " + list.getAttribute("data-block") + " " + ev.block));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) { list.removeChild(list.lastChild); }
  };
  es.addEventListener("caseledger.case", add);
  es.addEventListener("caseledger.holidays", add);
  es.onmessage = add;
})();
