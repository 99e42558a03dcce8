// Browsers refuse to start a Web Worker from a file:// page, and Material's search runs in
// one. On file:// this stands in for Worker: the worker script runs in a hidden iframe whose
// postMessage and importScripts are bridged to this page. (Material's offline plugin would
// otherwise load a shim from a CDN; a polyfill whose URL names "iframe-worker" stops that.)
(function () {
  "use strict";
  if (location.protocol !== "file:") { return; }

  function FrameWorker(url) {
    var self = this;
    var target = document.createElement("span");
    ["addEventListener", "removeEventListener", "dispatchEvent"].forEach(function (name) {
      self[name] = target[name].bind(target);
    });
    var frame = document.createElement("iframe");
    frame.hidden = true;
    document.body.appendChild(frame);
    this.frame = frame;
    var inner = frame.contentWindow;
    inner.postMessage = function (data) {
      var event = new MessageEvent("message", { data: data });
      self.dispatchEvent(event);
      if (typeof self.onmessage === "function") { self.onmessage(event); }
    };
    inner.importScripts = function () {
      var urls = Array.prototype.slice.call(arguments);
      return urls.reduce(function (chain, src) {
        return chain.then(function () {
          return new Promise(function (resolve, reject) {
            var script = inner.document.createElement("script");
            script.src = src;
            script.onload = resolve;
            script.onerror = reject;
            inner.document.body.appendChild(script);
          });
        });
      }, Promise.resolve());
    };
    this.ready = new Promise(function (resolve, reject) {
      var script = inner.document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = function (err) {
        var event = new ErrorEvent("error", { message: "worker failed to load", filename: url });
        self.dispatchEvent(event);
        if (typeof self.onerror === "function") { self.onerror(event); }
        reject(err);
      };
      (inner.document.body || inner.document.documentElement).appendChild(script);
    });
  }

  FrameWorker.prototype.postMessage = function (data) {
    var inner = this.frame.contentWindow;
    this.ready.then(function () {
      inner.dispatchEvent(new MessageEvent("message", { data: structuredClone(data) }));
    });
  };

  FrameWorker.prototype.terminate = function () {
    this.frame.remove();
  };

  window.Worker = FrameWorker;
})();
