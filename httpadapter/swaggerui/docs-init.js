// Starts Swagger UI on the page's #docs element, with the settings the
// server wrote into its data attributes. Part of usermgmt (not vendored).
(function () {
  var el = document.getElementById("docs");
  var interactive = el.dataset.interactive === "true";
  window.ui = SwaggerUIBundle({
    url: el.dataset.spec,
    dom_id: "#docs",
    deepLinking: true,
    supportedSubmitMethods: interactive ? ["get", "put", "post", "delete", "patch", "head"] : [],
    persistAuthorization: false,
  });
})();
