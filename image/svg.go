package image

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// sizeSVG draws the size report like Buildroot's graph-size: a pie of the
// image (kernel and each feature's compressed share) with a legend, and bars
// for the kernel modules.
func sizeSVG(s *Size) []byte {
	type slice struct {
		label string
		n     int64
	}
	slices := []slice{{"kernel (vmlinuz)", s.Kernel}}
	for _, f := range s.Features {
		if f.Compressed > 0 {
			slices = append(slices, slice{f.Feature, f.Compressed})
		}
	}
	var total int64
	for _, sl := range slices {
		total += sl.n
	}
	const w, r, cx, cy = 900, 150, 180, 200
	legendH := 60 + 22*len(slices)
	modH := 0
	if len(s.Modules) > 0 {
		modH = 50 + 18*len(s.Modules)
	}
	goH := 0
	if len(s.Go) > 0 {
		goH = 50 + 18*len(s.Go)
	}
	h := max(legendH, 2*cy) + goH + modH + 20
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("%s: %s total (kernel %s + initramfs %s, %s)", s.BSP, human(s.Total), human(s.Kernel), human(s.Initramfs), s.Compression)
	if s.Budget > 0 {
		title += fmt.Sprintf(", budget %s", human(s.Budget))
	}
	fmt.Fprintf(&b, `<text x="20" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	angle := -math.Pi / 2
	for i, sl := range slices {
		if total == 0 {
			break
		}
		frac := float64(sl.n) / float64(total)
		col := palette[i%len(palette)]
		if frac >= 0.9999 {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="%s"/>`+"\n", cx, cy, r, col)
			continue
		}
		end := angle + frac*2*math.Pi
		large := 0
		if frac > 0.5 {
			large = 1
		}
		x1, y1 := cx+r*math.Cos(angle), cy+r*math.Sin(angle)
		x2, y2 := cx+r*math.Cos(end), cy+r*math.Sin(end)
		fmt.Fprintf(&b, `<path d="M%d,%d L%.2f,%.2f A%d,%d 0 %d,1 %.2f,%.2f Z" fill="%s" stroke="white"><title>%s %s</title></path>`+"\n",
			cx, cy, x1, y1, r, r, large, x2, y2, col, html.EscapeString(sl.label), human(sl.n))
		angle = end
	}
	for i, sl := range slices {
		y := 60 + 22*i
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(sl.n) / float64(total)
		}
		fmt.Fprintf(&b, `<rect x="380" y="%d" width="14" height="14" fill="%s"/>`, y-12, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="402" y="%d">%s</text><text x="700" y="%d" text-anchor="end">%s</text><text x="760" y="%d" text-anchor="end">%.1f%%</text>`+"\n",
			y, html.EscapeString(sl.label), y, human(sl.n), y, pct)
	}
	bars := func(y0 int, title string, rows []barRow) {
		fmt.Fprintf(&b, `<text x="20" y="%d" font-weight="bold">%s</text>`+"\n", y0, html.EscapeString(title))
		var most int64 = 1
		for _, r := range rows {
			most = max(most, r.n)
		}
		for i, r := range rows {
			y := y0 + 18 + 18*i
			bw := int(float64(r.n) / float64(most) * 400)
			fmt.Fprintf(&b, `<text x="230" y="%d" text-anchor="end">%s</text><rect x="240" y="%d" width="%d" height="12" fill="#f28e2b"/><text x="%d" y="%d">%s</text>`+"\n",
				y, html.EscapeString(r.label), y-11, bw, 246+bw, y, html.EscapeString(r.note))
		}
	}
	if len(s.Go) > 0 {
		var rows []barRow
		for _, g := range s.Go {
			rows = append(rows, barRow{g.Feature, g.Bytes, fmt.Sprintf("%s (~%s compressed, %d packages)", human(g.Bytes), human(g.Compressed), g.Packages)})
		}
		bars(max(legendH, 2*cy)+30, "Go busybox binary by feature (estimate from Go source bytes)", rows)
	}
	if len(s.Modules) > 0 {
		y0 := max(legendH, 2*cy) + goH + 30
		fmt.Fprintf(&b, `<text x="20" y="%d" font-weight="bold">Kernel modules (uncompressed bytes in the initramfs)</text>`+"\n", y0)
		var most int64 = 1
		for _, m := range s.Modules {
			most = max(most, m.Bytes)
		}
		for i, m := range s.Modules {
			y := y0 + 18 + 18*i
			bw := int(float64(m.Bytes) / float64(most) * 400)
			fmt.Fprintf(&b, `<text x="230" y="%d" text-anchor="end">%s</text><rect x="240" y="%d" width="%d" height="12" fill="#4e79a7"/><text x="%d" y="%d">%s (%s)</text>`+"\n",
				y, html.EscapeString(m.Module), y-11, bw, 246+bw, y, human(m.Bytes), html.EscapeString(m.Feature))
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

type barRow struct {
	label string
	n     int64
	note  string
}
