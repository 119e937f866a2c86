// mutool run annots.js file.pdf — prints every annotation MuPDF reads, as
// JSON: page (1-based), subtype, /NM, /Rect and the bounds on the page as
// displayed (top-left origin, y down), /Contents, /T; and each page's size
// as displayed and whether it still has an /Annots entry.
function nums(x) {
  var r = [];
  for (var i = 0; i < x.length; i++) r.push(x.get(i).valueOf());
  return r;
}
var doc = new Document(scriptArgs[0]);
var out = { pages: [], annots: [] };
for (var i = 0; i < doc.countPages(); i++) {
  var page = doc.loadPage(i);
  var b = page.bound();
  var an = doc.findPage(i).get("Annots");
  out.pages.push({ w: b[2] - b[0], h: b[3] - b[1], hasAnnots: !!(an && an.isArray()) });
  var annots = page.getAnnotations();
  for (var j = 0; j < annots.length; j++) {
    var a = annots[j];
    var o = a.getObject();
    var nm = o.get("NM");
    nm = nm && nm.isString() ? nm.asString() : "";
    out.annots.push({
      page: i + 1, type: a.getType(), nm: nm,
      rect: nums(o.get("Rect")), bound: a.bound(),
      contents: a.getContents(), author: a.hasAuthor() ? a.getAuthor() : ""
    });
  }
}
print(JSON.stringify(out));
