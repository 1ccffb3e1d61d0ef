package cli

import (
	"context"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func runGraph(_ context.Context, c *Context, args []string) error {
	_, r, format, err := c.resolveArgs("graph", "graph [--format dot|svg] [--bsp NAME] [--design FILE] > design.svg", []string{"dot", "svg"}, args)
	if err != nil {
		return err
	}
	g := buildGraph(r)
	if format == "dot" {
		return g.writeDot(c.Stdout)
	}
	return g.writeSVG(c.Stdout)
}

// graphEdge points from the item that brings another in to that item.
type graphEdge struct {
	from, to, label string
}

type graph struct {
	nodes []*feature.Item
	edges []graphEdge
	layer map[string]int
}

// buildGraph lays the design out in layers: each item one layer below the
// deepest item that brings it in, so roots are at the top.
func buildGraph(r *resolve.Result) *graph {
	g := &graph{layer: map[string]int{}}
	for _, sel := range r.Items {
		g.nodes = append(g.nodes, sel.Item)
		for _, req := range sel.Item.Requires {
			g.edges = append(g.edges, graphEdge{from: sel.Item.ID, to: req})
		}
		for _, n := range sel.Item.Needs {
			for _, p := range r.Items {
				for _, pv := range p.Item.Provides {
					if pv == n {
						g.edges = append(g.edges, graphEdge{from: sel.Item.ID, to: p.Item.ID, label: "needs " + n})
					}
				}
			}
		}
	}
	// Build order has dependencies first: walk it backwards so parents are
	// placed before their children.
	for i := len(r.Items) - 1; i >= 0; i-- {
		id := r.Items[i].Item.ID
		for _, e := range g.edges {
			if e.from == id && g.layer[e.to] < g.layer[id]+1 {
				g.layer[e.to] = g.layer[id] + 1
			}
		}
	}
	return g
}

func (g *graph) writeDot(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph design {\n  rankdir=TB;\n  node [shape=box, fontname=\"sans-serif\"];\n")
	for _, n := range g.nodes {
		fmt.Fprintf(&b, "  %q [label=%q];\n", n.ID, n.ID+"\n"+n.Title)
	}
	for _, e := range g.edges {
		if e.label != "" {
			fmt.Fprintf(&b, "  %q -> %q [style=dashed, label=%q];\n", e.from, e.to, e.label)
		} else {
			fmt.Fprintf(&b, "  %q -> %q;\n", e.from, e.to)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSVG draws the layered graph as a standalone SVG (no Graphviz).
func (g *graph) writeSVG(w io.Writer) error {
	const (
		charW, boxH, padX, gapX, gapY, margin = 7.0, 40.0, 10.0, 24.0, 60.0, 20.0
	)
	layers := map[int][]*feature.Item{}
	maxLayer := 0
	for _, n := range g.nodes {
		l := g.layer[n.ID]
		layers[l] = append(layers[l], n)
		maxLayer = max(maxLayer, l)
	}
	type box struct{ x, y, w float64 }
	boxes := map[string]box{}
	width := 0.0
	for l := 0; l <= maxLayer; l++ {
		x := margin
		for _, n := range layers[l] {
			bw := float64(max(len(n.ID), len(n.Title)))*charW + 2*padX
			boxes[n.ID] = box{x: x, y: margin + float64(l)*(boxH+gapY), w: bw}
			x += bw + gapX
		}
		width = max(width, x)
	}
	height := margin*2 + float64(maxLayer+1)*(boxH+gapY) - gapY
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>` + "\n")
	for _, e := range g.edges {
		a, b2 := boxes[e.from], boxes[e.to]
		x1, y1 := a.x+a.w/2, a.y+boxH
		x2, y2 := b2.x+b2.w/2, b2.y
		dash := ""
		if e.label != "" {
			dash = ` stroke-dasharray="4,3"`
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"%s marker-end="url(#arrow)"><title>%s</title></line>`+"\n",
			x1, y1, x2, y2, dash, html.EscapeString(e.from+" -> "+e.to+" "+e.label))
	}
	for _, n := range g.nodes {
		bx := boxes[n.ID]
		fill := "#e8f0fe"
		switch n.Kind {
		case feature.KindBSP:
			fill = "#fde8d8"
		case feature.KindDriver:
			fill = "#e6f4ea"
		}
		fmt.Fprintf(&b, `<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" rx="4" fill="%s" stroke="#333"/>`,
			html.EscapeString(n.Description), bx.x, bx.y, bx.w, boxH, fill)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`, bx.x+bx.w/2, bx.y+16, html.EscapeString(n.ID))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`+"\n", bx.x+bx.w/2, bx.y+31, html.EscapeString(n.Title))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
