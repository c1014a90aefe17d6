package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/internal/icc"
)

const infoUsage = `usage: imageopto info [-json] FILE...

Prints what each image's header says, without decoding its pixels: format,
size as stored and as shown (after the EXIF orientation), frames, EXIF
orientation, the embedded ICC profile's description, alpha, progressive.
The size as stored is what the info header's idim reports.

flags:
`

// orientationNames say what each EXIF orientation asks a viewer to do.
var orientationNames = [...]string{
	1: "normal",
	2: "mirror horizontally",
	3: "rotate 180°",
	4: "mirror vertically",
	5: "mirror horizontally, then rotate 90° counter-clockwise",
	6: "rotate 90° clockwise",
	7: "mirror horizontally, then rotate 90° clockwise",
	8: "rotate 90° counter-clockwise",
}

// imageInfo is one file's report; the JSON output is a list of them.
type imageInfo struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*headerInfo
}

// headerInfo is what a readable header says.
type headerInfo struct {
	Format string `json:"format"`
	Bytes  int64  `json:"bytes"`
	// Width and Height are as stored, before the EXIF orientation (the
	// info header's idim); UprightWidth and UprightHeight as shown.
	Width         int      `json:"width"`
	Height        int      `json:"height"`
	UprightWidth  int      `json:"upright_width"`
	UprightHeight int      `json:"upright_height"`
	Frames        int      `json:"frames"`
	Orientation   int      `json:"orientation"` // EXIF orientation, 1 (normal) when absent
	ICC           *iccInfo `json:"icc"`         // null when the image has no profile
	Alpha         bool     `json:"alpha"`
	Progressive   bool     `json:"progressive"`
	Lossless      bool     `json:"lossless"`
}

// iccInfo describes an embedded colour profile.
type iccInfo struct {
	Bytes       int    `json:"bytes"`
	Description string `json:"description"` // its 'desc' tag, "" when it has none
	// Profile is the parsed profile's version, class and colour spaces;
	// Unsupported says why it could not be parsed (then the image's
	// colours are used as they are).
	Profile     string `json:"profile,omitempty"`
	Unsupported string `json:"unsupported,omitempty"`
}

// runInfo is "imageopto info". It reports every file it can and returns
// an error when any could not be read.
func runInfo(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("imageopto info", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print a JSON list, one object per file")
	files, err := parseInterspersed(flags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, infoUsage)
			flags.SetOutput(stdout)
			flags.PrintDefaults()
			return nil
		}
		return &usageError{err}
	}
	if len(files) == 0 {
		return &usageError{errors.New("info needs at least one FILE")}
	}
	reports := make([]imageInfo, len(files))
	failed := 0
	for i, name := range files {
		reports[i] = inspectFile(name)
		if reports[i].Error != "" {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			r.writeText(stdout)
		}
	}
	if failed > 0 {
		return fmt.Errorf("info: %d of %d files could not be read", failed, len(files))
	}
	return nil
}

// inspectFile reads one file's header.
func inspectFile(name string) imageInfo {
	r := imageInfo{File: name}
	data, err := os.ReadFile(name)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	s, err := imageopto.InspectWith(data, extraCodecs()) // AVIF and HEIC need the configured codecs
	if err != nil {
		r.Error = oneLine(err)
		return r
	}
	uw, uh := s.Upright()
	h := &headerInfo{
		Format:        string(s.Format),
		Bytes:         int64(len(data)),
		Width:         s.Width,
		Height:        s.Height,
		UprightWidth:  uw,
		UprightHeight: uh,
		Frames:        s.Frames,
		Orientation:   max(int(s.Orientation), 1),
		Alpha:         s.HasAlpha,
		Progressive:   s.Progressive,
		Lossless:      s.Lossless,
	}
	if len(s.ICC) > 0 {
		h.ICC = &iccInfo{Bytes: len(s.ICC), Description: iccDescription(s.ICC)}
		if p, err := icc.Parse(s.ICC); err == nil {
			h.ICC.Profile = p.String()
		} else {
			h.ICC.Unsupported = err.Error()
		}
	}
	r.headerInfo = h
	return r
}

// writeText prints the report as aligned "name value" lines under the
// file name.
func (r imageInfo) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s:\n", r.File)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	line := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	if r.headerInfo == nil {
		line("error", "%s", r.Error)
		return
	}
	h := r.headerInfo
	line("format", "%s", h.Format)
	line("bytes", "%d (%s)", h.Bytes, formatSize(h.Bytes))
	if h.UprightWidth != h.Width || h.UprightHeight != h.Height {
		line("size", "%dx%d as stored, %dx%d as shown", h.Width, h.Height, h.UprightWidth, h.UprightHeight)
	} else {
		line("size", "%dx%d", h.Width, h.Height)
	}
	line("frames", "%d", h.Frames)
	orient := "?"
	if h.Orientation < len(orientationNames) {
		orient = orientationNames[h.Orientation]
	}
	line("orientation", "%d (%s)", h.Orientation, orient)
	switch {
	case h.ICC == nil:
		line("icc", "none (sRGB assumed)")
	default:
		desc := h.ICC.Description
		if desc == "" {
			desc = "no description"
		}
		detail := h.ICC.Profile
		if detail == "" {
			detail = "not converted: " + h.ICC.Unsupported
		}
		line("icc", "%q, %d bytes; %s", desc, h.ICC.Bytes, detail)
	}
	line("alpha", "%s", yesNo(h.Alpha))
	line("progressive", "%s", yesNo(h.Progressive))
	line("lossless", "%s", yesNo(h.Lossless))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
