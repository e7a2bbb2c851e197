// The cohort page's one script: "Download PNG" draws the service's own SVG of the plot onto a canvas at twice its
// size and saves it. The SVG comes from this origin (img-src 'self'), so the canvas stays readable.
"use strict";
(function () {
  const button = document.getElementById("download-png");
  if (!button) return;
  button.addEventListener("click", function () {
    button.disabled = true;
    const image = new Image();
    image.onload = function () {
      const scale = 2;
      const canvas = document.createElement("canvas");
      canvas.width = image.naturalWidth * scale;
      canvas.height = image.naturalHeight * scale;
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = "swimmer-plot.png";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
        button.disabled = false;
      }, "image/png");
    };
    image.onerror = function () {
      button.disabled = false;
      alert("The plot could not be loaded for the PNG.");
    };
    image.src = button.dataset.svg;
  });
})();
