/**
 * The script both pages run, as source text. It reads the JSON in #cfs-data and draws, into each
 * `[data-treemap]` container, a squarified treemap (Bruls, Huizing, van Wijk 2000) of a `PageNode` tree that
 * zooms into a directory on click, and into each `[data-tree]` container a collapsible tree. It only ever sets
 * text with `textContent` and attributes with `setAttribute`. Plain ES2017, no backticks: it lives in a template.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
'use strict';
var data = JSON.parse(document.getElementById('cfs-data').textContent);
var KIND_COLOUR = { A: '#43a047', D: '#e53935', M: '#f9a825', R: '#1e88e5' };
var KIND_NAME = { A: 'added', D: 'removed', M: 'modified', R: 'renamed' };
var W = 1200, H = 560, HEAD = 16, MIN = 3;

function fmt (n) {
  if (n < 1024) return n + ' B';
  var u = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'], v = n / 1024, i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return v.toFixed(1) + ' ' + u[i];
}
function el (tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function join (chain) {
  var names = [];
  for (var i = 1; i < chain.length; i++) names.push(chain[i].n);
  return '/' + names.join('/');
}

// lays items (value v > 0, largest first) into the rectangle; returns [{item, x, y, w, h}]
function squarify (items, x, y, w, h) {
  var out = [], total = 0, i;
  for (i = 0; i < items.length; i++) total += items[i].v;
  if (total <= 0 || w <= 0 || h <= 0) return out;
  var scale = w * h / total, rest = items.slice();
  function worst (sum, min, max, side) {
    var s2 = side * side, q = sum * sum;
    return Math.max(s2 * max / q, q / (s2 * min));
  }
  while (rest.length > 0) {
    var side = Math.min(w, h), n = 1, a0 = rest[0].v * scale;
    var sum = a0, min = a0, max = a0, best = worst(sum, min, max, side);
    while (n < rest.length) {
      var a = rest[n].v * scale;
      var next = worst(sum + a, Math.min(min, a), Math.max(max, a), side);
      if (next > best) break;
      sum += a; min = Math.min(min, a); max = Math.max(max, a); best = next; n++;
    }
    var row = rest.slice(0, n);
    rest = rest.slice(n);
    if (rest.length === 0) sum = w * h;
    var off = 0, j, len;
    if (w >= h) {
      var cw = Math.min(w, sum / h);
      for (j = 0; j < row.length; j++) {
        len = j === row.length - 1 ? h - off : row[j].v * scale / cw;
        out.push({ item: row[j].item, x: x, y: y + off, w: cw, h: len }); off += len;
      }
      x += cw; w -= cw;
    } else {
      var rh = Math.min(h, sum / w);
      for (j = 0; j < row.length; j++) {
        len = j === row.length - 1 ? w - off : row[j].v * scale / rh;
        out.push({ item: row[j].item, x: x + off, y: y, w: len, h: rh }); off += len;
      }
      y += rh; h -= rh;
    }
  }
  return out;
}

function fillOf (mode, node, depth, hue) {
  if (mode === 'diff') {
    var k = node.k;
    if (!node.c && k) return KIND_COLOUR[k];
    var x = node.x || [0, 0, 0, 0], only = null, kinds = 'ADMR';
    for (var i = 0; i < 4; i++) if (x[i] > 0) only = only === null ? kinds[i] : '*';
    return only && only !== '*' ? KIND_COLOUR[only] : '#9aa3b2';
  }
  if (node.o) return '#c9ced8';
  return 'hsl(' + hue + ', 48%, ' + Math.max(42, 80 - depth * 11) + '%)';
}

function drawTreemap (box, root, mode) {
  var svg = box.querySelector('svg');
  var NS = svg.namespaceURI;
  var crumbs = box.querySelector('.crumbs');
  var info = box.querySelector('.info');
  var chain = [root];
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  function svgEl (tag, attrs) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function describe (path, node) {
    var s = path + '  ' + fmt(node.b);
    if (mode === 'diff') {
      var x = node.x || [0, 0, 0, 0];
      s += '  (' + node.f + ' changed: ' + x[0] + ' added, ' + x[1] + ' removed, ' + x[2] + ' modified, ' + x[3] + ' renamed)';
      if (node.k && !node.c) s = KIND_NAME[node.k] + ' ' + s;
      if (node.r) s += '  from ' + node.r;
    } else s += '  (' + node.f + (node.f === 1 ? ' file)' : ' files)');
    if (node.h) s += '  [' + node.h + ' entries not shown]';
    return s;
  }
  function level (node, path, x, y, w, h, depth, hue) {
    var kids = [];
    (node.c || []).forEach(function (k) { if (k.b > 0) kids.push({ v: k.b, item: k }); });
    squarify(kids, x, y, w, h).forEach(function (r, i) {
      if (r.w < MIN || r.h < MIN) return;
      var k = r.item, p = path.concat([k]);
      var myHue = depth === 0 ? (i * 137.508 + 200) % 360 : hue;
      var rect = svgEl('rect', { x: r.x.toFixed(1), y: r.y.toFixed(1), width: r.w.toFixed(1), height: r.h.toFixed(1), fill: fillOf(mode, k, depth, myHue) });
      rect.setAttribute('data-name', k.n);
      var title = svgEl('title', {});
      title.textContent = describe(join(p), k);
      rect.appendChild(title);
      rect.addEventListener('mouseover', function (ev) { ev.stopPropagation(); info.textContent = describe(join(p), k); });
      rect.addEventListener('click', function (ev) {
        ev.stopPropagation();
        var target = k.c ? p : path;
        if (target.length > chain.length || target[target.length - 1] !== chain[chain.length - 1]) { chain = target; draw(); }
      });
      svg.appendChild(rect);
      if (r.w > 36 && r.h > 13) {
        var maxChars = Math.floor((r.w - 6) / 6.4);
        var label = k.n + ' ' + fmt(k.b);
        if (label.length > maxChars) label = k.n.length > maxChars ? k.n.slice(0, Math.max(1, maxChars - 1)) + '\u2026' : k.n;
        var t = svgEl('text', { x: (r.x + 3).toFixed(1), y: (r.y + 12).toFixed(1) });
        t.textContent = label;
        svg.appendChild(t);
      }
      if (k.c && depth < 2 && r.w > 40 && r.h > 40) level(k, p, r.x + 2, r.y + HEAD, r.w - 4, r.h - HEAD - 2, depth + 1, myHue);
    });
  }
  function draw () {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    while (crumbs.firstChild) crumbs.removeChild(crumbs.firstChild);
    chain.forEach(function (node, i) {
      var b = el('button', '', i === 0 ? '/' : node.n);
      b.type = 'button';
      b.disabled = i === chain.length - 1;
      b.addEventListener('click', function () { chain = chain.slice(0, i + 1); draw(); });
      if (i > 1) crumbs.appendChild(document.createTextNode('/'));
      crumbs.appendChild(b);
    });
    var view = chain[chain.length - 1];
    info.textContent = describe(join(chain), view);
    if (view.b <= 0) {
      var t = svgEl('text', { x: 12, y: 24 });
      t.textContent = mode === 'diff' ? 'no content bytes changed here: see the tree below' : 'no file bytes here';
      svg.appendChild(t);
    }
    level(view, chain, 0, 0, W, H, 0, 0);
  }
  draw();
}

function drawTree (box, root) {
  function row (node) {
    var r = el('span', 'row');
    if (node.k) { var badge = el('span', 'k k' + node.k, node.k); badge.title = KIND_NAME[node.k]; r.appendChild(badge); }
    r.appendChild(el('span', 'nm', node.n + (node.c && node.n !== '/' ? '/' : '')));
    if (node.r) r.appendChild(el('span', 'ct', 'from ' + node.r));
    var x = node.x || [0, 0, 0, 0], parts = [];
    if (node.c || node.o) {
      if (x[0]) parts.push(x[0] + ' added');
      if (x[1]) parts.push(x[1] + ' removed');
      if (x[2]) parts.push(x[2] + ' modified');
      if (x[3]) parts.push(x[3] + ' renamed');
    }
    if (node.b > 0) parts.push(fmt(node.b));
    if (node.h) parts.push(node.h + ' not shown');
    if (parts.length) r.appendChild(el('span', 'ct', parts.join(', ')));
    return r;
  }
  function item (node, depth) {
    if (!node.c || node.c.length === 0) { var leaf = el('div', 'leaf'); leaf.appendChild(row(node)); return leaf; }
    var d = el('details');
    if (depth < 3) d.open = true;
    var s = el('summary');
    s.appendChild(row(node));
    d.appendChild(s);
    var kids = el('div', 'kids');
    node.c.forEach(function (k) { kids.appendChild(item(k, depth + 1)); });
    d.appendChild(kids);
    return d;
  }
  box.appendChild(item(root, 0));
}

var maps = document.querySelectorAll('[data-treemap]');
for (var i = 0; i < maps.length; i++) drawTreemap(maps[i], data[maps[i].getAttribute('data-treemap')], data.mode);
var trees = document.querySelectorAll('[data-tree]');
for (var j = 0; j < trees.length; j++) drawTree(trees[j], data[trees[j].getAttribute('data-tree')]);
document.body.setAttribute('data-rendered', 'yes');
})();`
