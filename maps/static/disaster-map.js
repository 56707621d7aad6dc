/* Disaster-preparedness maps: data layers, tooltips, popups, legend, search.
 * All text from data reaches the page as text: elements are built with textContent, and tooltips
 * and popups get a DOM node (a string given to Leaflet would be parsed as HTML), so names such as
 * "<img src=x onerror=...>" show as text. The page's CSP (disaster/csp.py) forbids inline
 * handlers besides. Works offline: tiles are optional. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // Leaflet's layer control takes each layer's name as HTML: give it the name as escaped text.
  function markup(text) {
    return el("span", null, text).innerHTML;
  }

  function named(layers) {
    var out = {};
    Object.keys(layers).forEach(function (name) { out[markup(name)] = layers[name]; });
    return out;
  }

  // A link from data leads to a page of the maps, never to a script (javascript:, data: ...).
  function safeHref(href) {
    var url = new URL(href, document.baseURI);
    return ["http:", "https:", "file:"].indexOf(url.protocol) >= 0 ? url.href : null;
  }

  function popup(title, rows, link) {
    var box = el("div", "km-popup");
    box.appendChild(el("div", "km-title", title));
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") { return; }
      var line = el("div", "km-row");
      line.appendChild(el("span", "km-key", row[0]));
      line.appendChild(el("span", "km-val", row[1]));
      box.appendChild(line);
    });
    if (link && safeHref(link.href)) {
      var a = el("a", "km-link", link.label);
      a.setAttribute("href", safeHref(link.href));
      box.appendChild(a);
    }
    return box;
  }

  function polygons(collection, label) {
    return L.geoJSON(collection, {
      style: function (f) {
        var p = f.properties;
        return {color: p.stroke || p.color, weight: p.weight || 0.6, fillColor: p.color,
                fillOpacity: p.opacity === undefined ? 0.6 : p.opacity, dashArray: p.dash || null};
      },
      onEachFeature: function (f, layer) {
        if (f.properties.label) {
          layer.bindTooltip(function () { return el("span", null, f.properties.label); }, {sticky: true});
        }
        if (f.properties.popup) {
          layer.bindPopup(function () { return popup(f.properties.popup.title, f.properties.popup.rows, f.properties.popup.link); });
        }
      }
    });
  }

  function legendControl(items, title) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var box = el("div", "km-legend map-legend");
      box.appendChild(el("div", "km-legend-title", title));
      items.forEach(function (item) {
        var row = el("div", "km-legend-row");
        var swatch = el("span", "km-swatch km-" + (item.shape || "box"));
        swatch.style.background = item.colour;
        row.appendChild(swatch);
        row.appendChild(el("span", null, item.label));
        box.appendChild(row);
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return control;
  }

  function searchControl(map, entries) {
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var box = el("div", "km-search");
      var input = el("input");
      input.setAttribute("type", "search");
      input.setAttribute("placeholder", "名前・名簿番号で探す");
      input.setAttribute("list", "km-search-list");
      var list = el("datalist");
      list.id = "km-search-list";
      entries.forEach(function (entry) { var o = el("option"); o.value = entry.label; list.appendChild(o); });
      input.addEventListener("change", function () {
        var hit = entries.find(function (entry) { return entry.label === input.value; });
        if (!hit) { return; }
        hit.group.zoomToShowLayer(hit.marker, function () { hit.marker.openPopup(); });
      });
      box.appendChild(input);
      box.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return control;
  }

  window.DisasterMap = {
    build: function (map, data, baseLayers) {
      var overlays = {};
      var layers = {};
      if (data.area) {
        layers.area = polygons(data.area, "area").addTo(map);
        overlays[data.areaLabel] = layers.area;
      }
      (data.hazards || []).forEach(function (hazard) {
        var layer = polygons(hazard.geojson);
        if (hazard.show) { layer.addTo(map); }
        overlays[hazard.label] = layer;
      });
      var choropleths = (data.choropleths || []).map(function (choro, i) {
        var layer = polygons(choro.geojson);
        layer.choropleth = choro;
        if (i === 0) { layer.addTo(map); }
        overlays[choro.label] = layer;
        return layer;
      });
      if (data.shelters) {
        layers.shelters = L.geoJSON(data.shelters, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {radius: f.properties.welfare ? 8 : 6, color: "#ffffff", weight: 2,
                                           fillColor: f.properties.colour, fillOpacity: 1});
          },
          onEachFeature: function (f, layer) {
            layer.bindPopup(function () { return popup(f.properties.name, f.properties.rows); });
          }
        }).addTo(map);
        overlays["避難所・避難場所"] = layers.shelters;
      }
      var searchable = [];
      if (data.residents) {
        var cols = data.residents.columns;
        var idx = {};
        cols.forEach(function (c, i) { idx[c] = i; });
        layers.residents = L.markerClusterGroup({maxClusterRadius: 45, showCoverageOnHover: false});
        layers.unsupported = L.layerGroup();
        data.residents.rows.forEach(function (row) {
          var marker = L.circleMarker([row[idx.lat], row[idx.lon]], {
            radius: row[idx.priority] >= 60 ? 8 : (row[idx.priority] >= 30 ? 6 : 5),
            color: "#222222", weight: 1, fillColor: data.residents.colours[row[idx.decision]] || "#888888", fillOpacity: 0.9
          });
          var title = row[idx.name] ? row[idx.name] : "要支援者";
          var rows = data.residents.popupColumns.map(function (c) { return [data.residents.labels[c], row[idx[c]]]; });
          marker.bindPopup(function () { return popup(title, rows); });
          marker.feature = {properties: {kind: "resident"}};
          layers.residents.addLayer(marker);
          if (row[idx.supporters] === 0) {
            var ring = L.circleMarker([row[idx.lat], row[idx.lon]], {radius: 11, color: "#B00020", weight: 2, fill: false});
            ring.bindPopup(function () { return popup(title + "（支援者なし）", rows); });
            layers.unsupported.addLayer(ring);
          }
          if (row[idx.name]) { searchable.push({label: row[idx.resident_no] + " " + row[idx.name], marker: marker, group: layers.residents}); }
        });
        layers.residents.addTo(map);
        overlays["要支援者（判定別）"] = layers.residents;
        overlays["支援者が決まっていない人"] = layers.unsupported;
      }
      if (data.supporters) {
        layers.supporters = L.geoJSON(data.supporters, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {radius: 4, color: "#1B5E9F", weight: 1, fillColor: "#5DA9E9", fillOpacity: 0.9});
          },
          onEachFeature: function (f, layer) {
            layer.bindPopup(function () { return popup(f.properties.title, f.properties.rows); });
          }
        });
        overlays["支援者"] = layers.supporters;
      }
      L.control.layers(named(baseLayers), named(overlays), {collapsed: false}).addTo(map);
      // one figure at a time, with its own legend: turning a choropleth on turns the others off,
      // once the layers control has finished its click (it re-adds what was checked when clicked)
      var legend = null;
      function showLegend(items, title) {
        if (legend) { map.removeControl(legend); legend = null; }
        if (items) { legend = legendControl(items, title).addTo(map); }
      }
      if (choropleths.length) {
        var latest = null;  // of several choices made at once, the last one stays
        map.on("overlayadd", function (e) {
          if (choropleths.indexOf(e.layer) < 0) { return; }
          var chosen = latest = e.layer;
          setTimeout(function () {
            if (chosen !== latest) { return; }
            choropleths.forEach(function (other) {
              if (other !== chosen && map.hasLayer(other)) { map.removeLayer(other); }
            });
            chosen.bringToBack();  // beneath the shelters, as when the page opened
            showLegend(chosen.choropleth.legend, chosen.choropleth.legendTitle);
          }, 0);
        });
        map.on("overlayremove", function (e) {
          if (choropleths.indexOf(e.layer) >= 0 && !choropleths.some(function (c) { return map.hasLayer(c); })) {
            showLegend(null);
          }
        });
        showLegend(data.choropleths[0].legend, data.choropleths[0].legendTitle);
      } else {
        showLegend(data.legend, data.legendTitle);
      }
      if (data.info) {
        var info = L.control({position: "bottomleft"});
        info.onAdd = function () {
          var box = el("div", "km-info");
          data.info.forEach(function (line, i) { box.appendChild(el("div", i === 0 ? "km-info-title" : "km-info-row", line)); });
          return box;
        };
        info.addTo(map);
      }
      if (searchable.length) { searchControl(map, searchable).addTo(map); }
      if (data.bounds) { map.fitBounds(data.bounds); }
      window.disasterLayers = layers;
      return layers;
    }
  };
})();
