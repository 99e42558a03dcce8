// The month selector of a report opened straight from disk (file://).
//
// Material's own selector fetches ../versions.json, and a browser refuses any fetch to a
// file:// page: it fails and logs an error on every page. A script element may load a file,
// though, so the archive writes the same list as ../versions.js (window.__reportVersions).
// On file:// this script, which runs after Material's #__config and before its bundle,
// removes "version" from that configuration (the bundle then draws no selector and fetches
// nothing), loads ../versions.js and draws the selector as Material does, with Material's
// classes, every title set as text. Served over HTTP it does nothing.
(function () {
  "use strict";
  if (location.protocol !== "file:") { return; }
  var element = document.getElementById("__config");
  if (!element) { return; }
  var config = JSON.parse(element.textContent);
  var version = config.version;
  if (!version || version.provider !== "mike") { return; }
  config.version = null;
  element.textContent = JSON.stringify(config);

  // the site root, .../<client>/<period>/; the archive's files are in its parent
  var base = new URL(config.base, location.href);
  var script = document.createElement("script");
  script.src = new URL("../versions.js", base).href;
  script.onload = function () {
    var versions = window.__reportVersions;
    var topic = document.querySelector(".md-header__topic");
    if (Array.isArray(versions) && versions.length > 0 && topic) {
      topic.appendChild(selector(versions, current(versions)));
    }
  };
  document.head.appendChild(script);

  function current(versions) {
    var match = base.pathname.match(/([^/]+)\/?$/);
    var label = match ? match[1] : "";
    return versions.filter(function (v) {
      return v.version === label || (v.aliases || []).indexOf(label) >= 0;
    })[0] || versions[0];
  }

  function selector(versions, here) {
    var button = node("button", "md-version__current", here);
    button.setAttribute("aria-label", config.translations["select.version"]);
    var list = node("ul", "md-version__list");
    versions.forEach(function (v) {
      var link = node("a", "md-version__link", v);
      link.href = new URL("../" + encodeURIComponent(v.version) + "/index.html", base).href;
      if (v === here) { link.setAttribute("aria-current", "true"); }
      var item = node("li", "md-version__item");
      item.appendChild(link);
      list.appendChild(item);
    });
    var root = node("div", "md-version");
    root.appendChild(button);
    root.appendChild(list);
    return root;
  }

  // an element of Material's class; with a version, its title and (as Material shows it)
  // its first alias
  function node(tag, className, v) {
    var el = document.createElement(tag);
    el.className = className;
    if (v) {
      el.appendChild(document.createTextNode(String(v.title)));
      if (version.alias && v.aliases && v.aliases.length > 0) {
        var alias = document.createElement("span");
        alias.className = "md-version__alias";
        alias.textContent = String(v.aliases[0]);
        el.appendChild(alias);
      }
    }
    return el;
  }
})();
