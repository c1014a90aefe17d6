package imageopto

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseOverlay covers every key of the overlay grammar, its
// normalisations and the canonical encoding.
func TestParseOverlay(t *testing.T) {
	t.Parallel()
	wm := "/img/wm.png"
	tests := []struct {
		in   string
		want Overlay
		enc  string
	}{
		{"overlay=/img/wm.png", Overlay{Path: wm}, "overlay=/img/wm.png"},
		// base64 of "/img/wm.png", padded and not, standard and URL-safe.
		{"overlay-base64=L2ltZy93bS5wbmc=", Overlay{Path: wm}, "overlay=/img/wm.png"},
		{"overlay-base64=L2ltZy93bS5wbmc", Overlay{Path: wm}, "overlay=/img/wm.png"},
		// "/a>/b.png" is L2E+L2IucG5n in the standard alphabet (+ written
		// %2B in a query string), L2E-L2IucG5n in the URL-safe one.
		{"overlay-base64=" + "L2E-L2IucG5n", Overlay{Path: "/a>/b.png"}, "overlay=/a%3E/b.png"},
		{"overlay-base64=L2E%2BL2IucG5n", Overlay{Path: "/a>/b.png"}, "overlay=/a%3E/b.png"},
		{"overlay=%2Fimg%2Fmy%2520wm.png", Overlay{Path: "/img/my%20wm.png"}, "overlay=/img/my%2520wm.png"},
		{"overlay=/wm.png&overlay-width=100", Overlay{Path: "/wm.png", Width: Px(100)}, "overlay=/wm.png&overlay-width=100"},
		{"overlay=/wm.png&overlay-width=0.25", Overlay{Path: "/wm.png", Width: Pct(25)}, "overlay=/wm.png&overlay-width=25p"},
		{"overlay=/wm.png&overlay-height=50p", Overlay{Path: "/wm.png", Height: Pct(50)}, "overlay=/wm.png&overlay-height=50p"},
		{"overlay=/wm.png&overlay-height=10.6", Overlay{Path: "/wm.png", Height: Px(11)}, "overlay=/wm.png&overlay-height=11"},
		{"overlay=/wm.png&overlay-align=top", Overlay{Path: "/wm.png", AlignY: AlignTop}, "overlay=/wm.png&overlay-align=top,center"},
		{"overlay=/wm.png&overlay-align=bottom,right", Overlay{Path: "/wm.png", AlignY: AlignBottom, AlignX: AlignRight}, "overlay=/wm.png&overlay-align=bottom,right"},
		{"overlay=/wm.png&overlay-align=left", Overlay{Path: "/wm.png", AlignX: AlignLeft}, "overlay=/wm.png&overlay-align=middle,left"},
		{"overlay=/wm.png&overlay-align=middle,center", Overlay{Path: "/wm.png"}, "overlay=/wm.png"},
		{"overlay=/wm.png&overlay-align=center", Overlay{Path: "/wm.png"}, "overlay=/wm.png"},
		{"overlay=/wm.png&overlay-align=middle", Overlay{Path: "/wm.png"}, "overlay=/wm.png"},
		{"overlay=/wm.png&overlay-pad=10", Overlay{Path: "/wm.png", Pad: Sides{Px(10), Px(10), Px(10), Px(10)}}, "overlay=/wm.png&overlay-pad=10,10,10,10"},
		{"overlay=/wm.png&overlay-pad=10,5p,0", Overlay{Path: "/wm.png", Pad: Sides{Px(10), Pct(5), Px(0), Pct(5)}}, "overlay=/wm.png&overlay-pad=10,5p,0,5p"},
		{"overlay=/wm.png&overlay-pad=0", Overlay{Path: "/wm.png"}, "overlay=/wm.png"},
		{"overlay=/wm.png&overlay-repeat=x", Overlay{Path: "/wm.png", Repeat: RepeatX}, "overlay=/wm.png&overlay-repeat=x"},
		{"overlay=/wm.png&overlay-repeat=y", Overlay{Path: "/wm.png", Repeat: RepeatY}, "overlay=/wm.png&overlay-repeat=y"},
		{"overlay=/wm.png&overlay-repeat=both", Overlay{Path: "/wm.png", Repeat: RepeatBoth}, "overlay=/wm.png&overlay-repeat=both"},
		// Everything at once, in any order, with empty pieces.
		{"overlay-repeat=both&&overlay-pad=1,2,3,4&overlay-align=bottom,left&overlay-height=20p&overlay-width=30&overlay=/a/b.png&",
			Overlay{Path: "/a/b.png", Width: Px(30), Height: Pct(20), AlignY: AlignBottom, AlignX: AlignLeft,
				Pad: Sides{Px(1), Px(2), Px(3), Px(4)}, Repeat: RepeatBoth},
			"overlay=/a/b.png&overlay-align=bottom,left&overlay-height=20p&overlay-pad=1,2,3,4&overlay-repeat=both&overlay-width=30"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOverlay(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.enc, got.Encode())
			again, err := ParseOverlay(got.Encode())
			require.NoError(t, err, "canonical form parses")
			assert.Equal(t, got, again, "round trip")
		})
	}
}

// TestParseOverlayErrors: each error names the key and the reason, and
// all of a value's errors come back together.
func TestParseOverlayErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		params []string // the keys named, in order
		reason string   // part of the first error's reason
	}{
		{"", []string{"overlay"}, "missing"},
		{"overlay-width=100", []string{"overlay"}, "missing"},
		{"overlay=", []string{"overlay"}, "empty value"},
		{"overlay", []string{"overlay"}, "empty value"},
		{"overlay=img/wm.png", []string{"overlay"}, "exactly one slash"},
		{"overlay=//evil.example/wm.png", []string{"overlay"}, "exactly one slash"},
		{"overlay=/wm.png?width=10", []string{"overlay"}, "query"},
		{"overlay=/wm.png%23frag", []string{"overlay"}, "fragment"},
		{"overlay=/a/../wm.png", []string{"overlay"}, ". or .."},
		{"overlay=/a//wm.png", []string{"overlay"}, "empty"},
		{"overlay=/a\\wm.png", []string{"overlay"}, "backslash"},
		{"overlay=/a%01.png", []string{"overlay"}, "control"},
		{"overlay=/a%252.png", []string{"overlay"}, "root-relative"}, // "%2." is not a path escape
		{"overlay=/a%zz.png", []string{"overlay"}, "percent-encoded"},
		{"overlay=/a.png&overlay=/b.png", []string{"overlay"}, "more than once"},
		{"overlay=/a.png&overlay-base64=L2ltZy93bS5wbmc", []string{"overlay-base64"}, "cannot be combined"},
		{"overlay-base64=!!!", []string{"overlay-base64"}, "base64"},
		{"overlay-base64=L2ltZy93bS5wbmc==", []string{"overlay-base64"}, "base64"}, // wrong padding
		{"overlay-base64=L2E+L2IucG5n", []string{"overlay-base64"}, "%2B"},
		{"overlay-base64=aW1nL3dtLnBuZw", []string{"overlay-base64"}, "decodes to img/wm.png"},
		{"overlay-base64=L2E_Pi9iLnBuZw", []string{"overlay-base64"}, "query"}, // "/a?>/b.png"
		{"overlay=/a.png&overlay-width=0", []string{"overlay-width"}, "pixels between 1 and 8192"},
		{"overlay=/a.png&overlay-width=9000", []string{"overlay-width"}, "8192"},
		{"overlay=/a.png&overlay-width=-5", []string{"overlay-width"}, "pixels"},
		{"overlay=/a.png&overlay-width=2000p", []string{"overlay-width"}, "1000p"},
		{"overlay=/a.png&overlay-height=abc", []string{"overlay-height"}, "of the output image"},
		{"overlay=/a.png&overlay-height=", []string{"overlay-height"}, "empty value"},
		{"overlay=/a.png&overlay-align=right,bottom", []string{"overlay-align"}, "{y},{x}"},
		{"overlay=/a.png&overlay-align=top,top", []string{"overlay-align"}, "{y},{x}"},
		{"overlay=/a.png&overlay-align=top,left,x", []string{"overlay-align"}, "{y},{x}"},
		{"overlay=/a.png&overlay-align=bottom,%20right", []string{"overlay-align"}, "{y},{x}"},
		{"overlay=/a.png&overlay-align=Top", []string{"overlay-align"}, "{y},{x}"},
		{"overlay=/a.png&overlay-pad=1,2,3,4,5", []string{"overlay-pad"}, "1 to 4"},
		{"overlay=/a.png&overlay-pad=-1", []string{"overlay-pad"}, "1 to 4"},
		{"overlay=/a.png&overlay-repeat=none", []string{"overlay-repeat"}, "x, y or both"},
		{"overlay=/a.png&overlay-repeat=xy", []string{"overlay-repeat"}, "x, y or both"},
		{"overlay=/a.png&overlay-opacity=50", []string{"overlay-opacity"}, "unknown overlay parameter"},
		{"overlay=/a.png&width=50", []string{"width"}, "unknown overlay parameter"},
		{"overlay=/a.png&overlay-width=%zz", []string{"overlay-width"}, "percent-encoded"},
		{"overlay=/a.png&%zz=1", []string{"%zz"}, "percent-encoded"},
		{"overlay=/a.png&overlay-repeat=x&overlay-repeat=y", []string{"overlay-repeat"}, "more than once"},
		{"overlay=/a.png&" + strings.Repeat("x", 5000), []string{OverlayHeader}, "4096"},
		// Several errors at once, in order.
		{"overlay-width=0&overlay-align=up&overlay-repeat=z", []string{"overlay-width", "overlay-align", "overlay-repeat", "overlay"}, "pixels"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			o, err := ParseOverlay(tc.in)
			require.Error(t, err)
			assert.Equal(t, Overlay{}, o)
			assert.ErrorIs(t, err, ErrInvalidParam)
			assert.Equal(t, http.StatusBadRequest, StatusCode(err))
			var names []string
			var first *ParamError
			for _, e := range unjoin(err) {
				var pe *ParamError
				require.True(t, errors.As(e, &pe), "%T is a *ParamError", e)
				names = append(names, pe.Param)
				if first == nil {
					first = pe
				}
			}
			assert.Equal(t, tc.params, names)
			assert.Contains(t, first.Reason, tc.reason)
			assert.True(t, strings.HasPrefix(err.Error(), tc.params[0]+"="), "the message starts with the key: %q", err.Error())
		})
	}
}

// TestOverlayCanonical: an Overlay built by hand (by a hook) is checked
// like a parsed one and normalised.
func TestOverlayCanonical(t *testing.T) {
	t.Parallel()
	got, err := Overlay{Path: "/wm.png", Width: Px(10.4), Pad: Sides{Px(0), Px(0), Px(0), Px(0)}}.canonical()
	require.NoError(t, err)
	assert.Equal(t, Overlay{Path: "/wm.png", Width: Px(10)}, got)
	for _, bad := range []Overlay{
		{},
		{Path: "wm.png"},
		{Path: "/wm.png", AlignY: AlignLeft},
		{Path: "/wm.png", AlignX: "middle"},
		{Path: "/wm.png", Repeat: "none"},
		{Path: "/wm.png", Width: Px(-3)},
		{Path: "/wm.png", Height: Pct(0)},
	} {
		_, err := bad.canonical()
		assert.ErrorIs(t, err, ErrInvalidParam, "%+v", bad)
	}
	// A path is escaped in the encoding, never read as more keys.
	got, err = Overlay{Path: "/wm.png&overlay-width=5"}.canonical()
	require.NoError(t, err)
	assert.Equal(t, Overlay{Path: "/wm.png&overlay-width=5"}, got)
}

// TestOverlayFromHeader: absent or empty headers mean no overlay; two
// header lines are refused.
func TestOverlayFromHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	o, err := overlayFromHeader(h)
	assert.NoError(t, err)
	assert.Nil(t, o)
	h.Set(OverlayHeader, "  ")
	o, err = overlayFromHeader(h)
	assert.NoError(t, err)
	assert.Nil(t, o)
	h.Set("x-fastly-imageopto-overlay", "overlay=/wm.png&overlay-align=bottom,right")
	o, err = overlayFromHeader(h)
	require.NoError(t, err)
	assert.Equal(t, &Overlay{Path: "/wm.png", AlignY: AlignBottom, AlignX: AlignRight}, o)
	h.Add(OverlayHeader, "overlay=/other.png")
	_, err = overlayFromHeader(h)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, OverlayHeader, pe.Param)
}

// FuzzParseOverlay: the overlay parser either fails with *ParamErrors and
// the zero Overlay, or returns an Overlay whose encoding parses back to it
// and whose path names a clean origin path.
func FuzzParseOverlay(f *testing.F) {
	for _, s := range []string{
		"overlay=/img/wm.png",
		"overlay-base64=L2ltZy93bS5wbmc&overlay-width=0.2&overlay-align=bottom,right",
		"overlay=/a%20b.png&overlay-pad=1,2p,3&overlay-repeat=both&overlay-height=10",
		"overlay=/a.png&overlay=/b.png&overlay-align=x",
		"overlay=%2F%2Fx&overlay-base64=====",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		o, err := ParseOverlay(v)
		if err != nil {
			if o != (Overlay{}) {
				t.Fatalf("ParseOverlay(%q) failed but returned %+v", v, o)
			}
			checkAllParamErrors(t, v, err)
			return
		}
		again, err := o.canonical()
		if err != nil || again != o {
			t.Fatalf("ParseOverlay(%q) = %+v; its encoding %q gives %+v, %v", v, o, o.Encode(), again, err)
		}
		if _, err := overlayOriginPath(o.Path); err != nil {
			t.Fatalf("ParseOverlay(%q): path %q names no origin path: %v", v, o.Path, err)
		}
	})
}
