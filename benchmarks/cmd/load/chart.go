package main

import (
	"fmt"
	"html"
	"strings"
)

// chart draws requests/s per stack as a horizontal bar chart in SVG, each bar labelled
// with its figure and its ratio to the peer stack.
func chart(rows []row) string {
	const (
		left, barH, gap, width = 130, 26, 10, 460
	)
	var top float64
	for _, r := range rows {
		top = max(top, r.res.rps())
	}
	height := len(rows)*(barH+gap) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", left+width+170, height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-weight="bold">requests/s (higher is better)</text>`+"\n", left)
	for i, r := range rows {
		y := 30 + i*(barH+gap)
		w := 0.0
		if top > 0 {
			w = r.res.rps() / top * width
		}
		color := "#8a8a8a"
		if strings.HasPrefix(r.name, "harden") {
			color = "#2a7ab0"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH*2/3, html.EscapeString(r.name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, w, barH, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.0f (%.2fx peer)</text>`+"\n", float64(left)+w+6, y+barH*2/3, r.res.rps(), r.ratioToPeer)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
