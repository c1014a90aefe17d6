package imageopto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/mp4"
	"github.com/imageopto/imageopto/internal/quality"
)

// graphicsGIF makes an n-frame w×h animation in the style of most GIFs:
// flat colours, text-like stripes, a shape moving 3 px right and 2 px down
// per frame, and a transparent corner. Delays are delay hundredths each.
func graphicsGIF(t testing.TB, w, h, n, delay int) []byte {
	t.Helper()
	pal := append(color.Palette{color.NRGBA{}}, palette.WebSafe...)
	anim := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for y := range h {
			for x := range w {
				c := color.Color(color.NRGBA{0xFF, 0xFF, 0xCC, 255})
				switch {
				case x < w/6 && y < h/6:
					c = color.NRGBA{}
				case x >= w/8+3*i && x < w/8+3*i+w/4 && y >= h/3+2*i && y < h/3+2*i+h/4:
					c = color.NRGBA{0xCC, 0x33, 0x00, 255}
				case y > 2*h/3 && y < 2*h/3+8 && x%4 < 2 && (x/16)%3 != 2:
					c = color.NRGBA{0, 0, 0x66, 255}
				case y < h/10:
					c = color.NRGBA{0x33, 0x66, 0x99, 255}
				}
				f.Set(x, y, c)
			}
		}
		anim.Image = append(anim.Image, f)
		anim.Delay = append(anim.Delay, delay)
		anim.Disposal = append(anim.Disposal, gif.DisposalBackground)
	}
	var b bytes.Buffer
	require.NoError(t, gif.EncodeAll(&b, anim))
	return b.Bytes()
}

// TestMP4Structure reads the MP4 back with our own box parser: the boxes,
// one sample per frame with its duration, the first one a sync sample
// holding an IDR picture, the parameter sets of Constrained Baseline.
func TestMP4Structure(t *testing.T) {
	t.Parallel()
	data := animatedGIF(t, 80, 40, 4) // delays 5, 6, 7 and 8 hundredths
	res, _ := runMP4(t, data, "format=mp4", nil)
	assert.Equal(t, "video/mp4", res.ContentType)
	assert.Equal(t, MP4, res.Output.Format)
	assert.True(t, res.Plan.Animated)
	info, err := mp4.Read(res.Data)
	require.NoError(t, err)
	assert.Equal(t, []string{"ftyp", "moov", "mdat"}, info.Boxes, "moov first: playback starts while downloading")
	assert.Equal(t, "isom", info.Brand)
	assert.Equal(t, [2]int{80, 40}, [2]int{info.Width, info.Height})
	assert.Equal(t, uint32(1000), info.Timescale)
	assert.Equal(t, []uint32{50, 60, 70, 80}, info.Durations)
	assert.Equal(t, uint32(260), info.Duration)
	assert.Equal(t, []int{1}, info.Sync)
	assert.Equal(t, uint8(66), info.Profile)
	assert.Equal(t, uint8(10), info.Level, "lowest level that fits 15 macroblocks at 20 frames per second")
	require.Len(t, info.Samples, 4)
	for i, s := range info.Samples {
		require.Greater(t, len(s), 5)
		n := int(s[0])<<24 | int(s[1])<<16 | int(s[2])<<8 | int(s[3])
		assert.Equal(t, len(s)-4, n, "sample %d is one length-prefixed NAL unit", i)
		want := byte(1) // non-IDR slice
		if i == 0 {
			want = 5
		}
		assert.Equal(t, want, s[4]&0x1F, "NAL type of sample %d", i)
	}
	assert.Equal(t, byte(7), info.SPS[0]&0x1F)
	assert.Equal(t, byte(0xC0), info.SPS[2], "constraint_set0 and set1: Constrained Baseline")
	assert.Equal(t, byte(8), info.PPS[0]&0x1F)
	// Much smaller than the GIF it came from.
	assert.Less(t, len(res.Data), len(data))
}

// runMP4 transforms data and returns the result and the frames that were
// encoded, computed by running the result's plan on the decoded frames.
func runMP4(t testing.TB, data []byte, query string, opts *TransformOptions) (*Result, []Frame) {
	t.Helper()
	p, err := ParseParams(query)
	require.NoError(t, err)
	if opts == nil {
		opts = &TransformOptions{}
	}
	res, err := TransformBytes(context.Background(), data, p, opts)
	require.NoError(t, err, query)
	job, err := prepare(data, p, "", *opts)
	require.NoError(t, err)
	var frames []Frame
	if job.plan.Animated {
		frames, _, err = job.dec.frames(context.Background(), opts.Limits)
		require.NoError(t, err)
	} else {
		img, err := job.dec.decode(context.Background(), job.plan.DecodeScale)
		require.NoError(t, err)
		frames = []Frame{{Image: img}}
	}
	var f facts
	for i := range frames {
		img, err := job.plan.run(context.Background(), frames[i].Image, &f)
		require.NoError(t, err)
		frames[i].Image = img
	}
	return res, frames
}

// ffprobeInfo is what ffprobe says of a file's video stream.
type ffprobeInfo struct {
	Streams []struct {
		CodecName   string `json:"codec_name"`
		Profile     string `json:"profile"`
		Level       int    `json:"level"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		PixFmt      string `json:"pix_fmt"`
		ReadFrames  string `json:"nb_read_frames"`
		ColorSpace  string `json:"color_space"`
		ColorRange  string `json:"color_range"`
		Duration    string `json:"duration"`
		TimeBase    string `json:"time_base"`
		DurationTS  int    `json:"duration_ts"`
		FieldsOrder string `json:"field_order"`
	} `json:"streams"`
	Packets []struct {
		Duration int    `json:"duration"`
		Flags    string `json:"flags"`
	} `json:"packets"`
}

// debianTool returns the path of a program of Debian's ffmpeg package, or
// skips the test.
func debianTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install ffmpeg)", name)
	}
	return p
}

// probeMP4 runs ffprobe on an MP4 file, counting the frames it decodes.
func probeMP4(t testing.TB, file string) ffprobeInfo {
	t.Helper()
	out, err := exec.Command(debianTool(t, "ffprobe"), "-v", "error", "-count_frames", "-show_streams",
		"-show_packets", "-of", "json", file).Output()
	require.NoError(t, err)
	var info ffprobeInfo
	require.NoError(t, json.Unmarshal(out, &info))
	require.Len(t, info.Streams, 1)
	return info
}

// decodeMP4 decodes every frame of an MP4 file with ffmpeg, as RGB (ffmpeg
// applies the colour matrix the stream is tagged with).
func decodeMP4(t testing.TB, file string, w, h int) []*image.NRGBA {
	t.Helper()
	out, err := exec.Command(debianTool(t, "ffmpeg"), "-v", "error", "-i", file, "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	require.NoError(t, err)
	require.Zero(t, len(out)%(3*w*h), "whole %dx%d frames", w, h)
	var frames []*image.NRGBA
	for len(out) > 0 {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range w * h {
			copy(m.Pix[4*i:], out[3*i:3*i+3])
			m.Pix[4*i+3] = 255
		}
		frames = append(frames, m)
		out = out[3*w*h:]
	}
	return frames
}

// padEven repeats the last column and row of m up to even sides, as the
// encoder does.
func padEven(m *image.NRGBA) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w+w&1, h+h&1))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			out.SetNRGBA(x, y, m.NRGBAAt(min(x, w-1), min(y, h-1)))
		}
	}
	return out
}

// TestMP4FFmpeg: Debian's ffmpeg plays our files. ffprobe reports the
// frames, size, profile, level and durations; every decoded frame is
// within SSIM 0.95 of the frame that was encoded.
func TestMP4FFmpeg(t *testing.T) {
	t.Parallel()
	debianTool(t, "ffmpeg")
	debianTool(t, "ffprobe")
	photoStill := func() []byte {
		var b bytes.Buffer
		require.NoError(t, png.Encode(&b, photoLike(97, 61)))
		return b.Bytes()
	}()
	cases := []struct {
		name      string
		data      []byte
		query     string
		w, h      int
		durations []int
		level     int
		minSSIM   float64
	}{
		{"quadrants", animatedGIF(t, 80, 40, 4), "format=mp4", 80, 40, []int{50, 60, 70, 80}, 10, 0.95},
		{"graphics", graphicsGIF(t, 160, 120, 6, 4), "format=mp4", 160, 120, []int{40, 40, 40, 40, 40, 40}, 11, 0.95},
		{"resized, odd width", graphicsGIF(t, 160, 120, 5, 0), "format=mp4&width=101", 102, 76, []int{100, 100, 100, 100, 100}, 10, 0.95},
		{"bg-color, level asked", graphicsGIF(t, 96, 64, 3, 10), "format=mp4&bg-color=00f&level=3.1&profile=high", 96, 64, []int{100, 100, 100}, 31, 0.95},
		{"low quality", graphicsGIF(t, 160, 120, 3, 10), "format=mp4&quality=30", 160, 120, []int{100, 100, 100}, 10, 0.80},
		{"still photo", photoStill, "format=mp4", 98, 62, []int{1000}, 10, 0.95},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, frames := runMP4(t, c.data, c.query, nil)
			t.Logf("%s: source %d bytes, MP4 %d bytes", c.query, len(c.data), len(res.Data))
			file := filepath.Join(t.TempDir(), "out.mp4")
			require.NoError(t, os.WriteFile(file, res.Data, 0o644))
			pr := probeMP4(t, file)
			s := pr.Streams[0]
			assert.Equal(t, "h264", s.CodecName)
			assert.Equal(t, "Constrained Baseline", s.Profile)
			assert.Equal(t, c.level, s.Level)
			assert.Equal(t, [2]int{c.w, c.h}, [2]int{s.Width, s.Height})
			assert.Equal(t, "yuv420p", s.PixFmt)
			assert.Equal(t, "bt709", s.ColorSpace)
			assert.Equal(t, "tv", s.ColorRange)
			assert.Equal(t, strconv.Itoa(len(c.durations)), s.ReadFrames, "frames decoded")
			var durations []int
			for _, p := range pr.Packets {
				durations = append(durations, p.Duration)
			}
			assert.Equal(t, c.durations, durations, "packet durations in ms")
			assert.Equal(t, "K_", pr.Packets[0].Flags, "first frame is a keyframe")

			decoded := decodeMP4(t, file, c.w, c.h)
			require.Len(t, decoded, len(frames))
			for i, f := range frames {
				want := padEven(f.Image)
				ssim := quality.LumaSSIM(quality.LumaOver(want, 255), quality.LumaOver(decoded[i], 255), c.w, c.h)
				t.Logf("frame %d: SSIM %.4f", i, ssim)
				assert.GreaterOrEqual(t, ssim, c.minSSIM, "frame %d", i)
			}
			// The test can fail: frames in the wrong order score lower.
			if len(frames) > 2 {
				wrong := quality.LumaSSIM(quality.LumaOver(padEven(frames[0].Image), 255), quality.LumaOver(decoded[len(decoded)-1], 255), c.w, c.h)
				assert.Less(t, wrong, 0.95, "first frame against the last one decoded")
			}
		})
	}
}

// TestMP4Background: transparent pixels are composed onto bg-color, or
// white.
func TestMP4Background(t *testing.T) {
	t.Parallel()
	ffmpegFrames := func(query string) []*image.NRGBA {
		res, _ := runMP4(t, graphicsGIF(t, 96, 64, 2, 10), query, nil)
		file := filepath.Join(t.TempDir(), "out.mp4")
		require.NoError(t, os.WriteFile(file, res.Data, 0o644))
		return decodeMP4(t, file, 96, 64)
	}
	for _, c := range []struct {
		query string
		want  color.NRGBA
	}{
		{"format=mp4", color.NRGBA{255, 255, 255, 255}},
		{"format=mp4&bg-color=00f", color.NRGBA{0, 0, 255, 255}},
		{"format=mp4&bg-color=0f0", color.NRGBA{0, 255, 0, 255}},
	} {
		for i, f := range ffmpegFrames(c.query) {
			got := f.NRGBAAt(4, 4) // in the transparent corner
			assert.True(t, near(got, c.want, 12), "%s frame %d: %v", c.query, i, got)
		}
	}
}

// TestMP4LevelAndLimits: level= is checked against the frame size when
// planning and against the frame rate when encoding, with a 400 naming
// level; MaxVideoPixels bounds the pixels encoded (422).
func TestMP4LevelAndLimits(t *testing.T) {
	t.Parallel()
	fast := graphicsGIF(t, 176, 144, 3, 2) // 99 macroblocks every 20 ms: 4,950 per second
	slow := graphicsGIF(t, 176, 144, 3, 10)
	cases := []struct {
		data   []byte
		query  string
		limits Limits
		status int
		reason string
		level  uint8
	}{
		{slow, "format=mp4&level=1.0", Limits{}, 200, "", 10},
		{fast, "format=mp4", Limits{}, 200, "", 12},
		{fast, "format=mp4&level=1.0", Limits{}, 400, "macroblocks per second", 0},
		{slow, "format=mp4&level=1.0&width=400&enable=upscale", Limits{}, 400, "macroblocks", 0},
		{slow, "format=mp4&level=6.2&width=400&enable=upscale", Limits{}, 200, "", 62},
		{slow, "format=mp4", Limits{MaxVideoPixels: 3*176*144 - 1}, 422, "", 0},
		{slow, "format=mp4&frame=1", Limits{MaxVideoPixels: 3*176*144 - 1}, 200, "", 10},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		res, err := TransformBytes(context.Background(), c.data, p, &TransformOptions{PlanOptions: PlanOptions{Limits: c.limits}})
		if c.status != 200 {
			require.Error(t, err, c.query)
			assert.Equal(t, c.status, StatusCode(err), "%s: %v", c.query, err)
			if c.status == 400 {
				var pe *ParamError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, "level", pe.Param)
				assert.Contains(t, pe.Reason, c.reason)
			} else {
				assert.ErrorIs(t, err, ErrJobTooLarge)
			}
			continue
		}
		require.NoError(t, err, c.query)
		info, err := mp4.Read(res.Data)
		require.NoError(t, err)
		assert.Equal(t, c.level, info.Level, c.query)
	}
}

// TestMP4Plan: the plan of MP4 output: its quality, level, profile warning
// and the memory of every frame's encoded samples.
func TestMP4Plan(t *testing.T) {
	t.Parallel()
	src := SourceInfo{Format: GIF, Width: 400, Height: 300, Frames: 50}
	plan := func(q string) *Plan {
		p, err := ParseParams(q)
		require.NoError(t, err)
		pl, err := NewPlan(p, src, "", nil)
		require.NoError(t, err, q)
		return pl
	}
	pl := plan("format=mp4")
	assert.Equal(t, MP4, pl.Format)
	assert.True(t, pl.Animated)
	assert.False(t, pl.Alpha)
	assert.Equal(t, DefaultMP4Quality, pl.Quality)
	assert.Empty(t, pl.Warnings)
	assert.Equal(t, 70, plan("format=mp4&quality=70").Quality)
	assert.Zero(t, plan("format=mp4&optimize=high").OptimizeTarget, "optimize= does not apply")
	assert.Equal(t, Level("4.0"), plan("format=mp4&level=4.0").Level)
	assert.NotEmpty(t, plan("format=mp4&profile=main").Warnings)
	assert.Empty(t, plan("format=mp4&profile=baseline").Warnings)
	// Memory grows with the frames: their samples are kept until the file
	// is written.
	one := plan("format=mp4&frame=1").EncodeMemory
	all := pl.EncodeMemory
	assert.Greater(t, all, one+49*400*300/2)
	assert.Greater(t, EstimateMemory(src, pl), all)
	// format=mp4 is no longer refused; level= and profile= still are not
	// for other formats (accepted, ignored).
	_ = plan("format=png&level=1.0&profile=high")
}

// TestCorpusMP4 turns the corpus's animated GIFs into MP4 and reports
// their sizes against the GIF's; every frame must stay within SSIM 0.95
// of the GIF's, and the MP4 must be smaller.
func TestCorpusMP4(t *testing.T) {
	dir := corpusDir(t)
	debianTool(t, "ffmpeg")
	names, err := filepath.Glob(filepath.Join(dir, "*.gif"))
	require.NoError(t, err)
	for _, name := range names {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		info, err := Inspect(data)
		require.NoError(t, err)
		if info.Frames < 2 {
			continue
		}
		for _, q := range []string{"format=mp4", "format=mp4&quality=90", "format=mp4&quality=70", "format=mp4&quality=60"} {
			res, frames := runMP4(t, data, q, nil)
			file := filepath.Join(t.TempDir(), "out.mp4")
			require.NoError(t, os.WriteFile(file, res.Data, 0o644))
			w, h := res.Output.Width+res.Output.Width&1, res.Output.Height+res.Output.Height&1
			decoded := decodeMP4(t, file, w, h)
			require.Len(t, decoded, len(frames))
			worst := 1.0
			for i, f := range frames {
				worst = min(worst, quality.LumaSSIM(quality.LumaOver(padEven(f.Image), 255), quality.LumaOver(decoded[i], 255), w, h))
			}
			t.Logf("%s %s: %d frames %dx%d, GIF %d bytes, MP4 %d bytes (%.1f%%), worst frame SSIM %.4f",
				filepath.Base(name), q, len(frames), w, h, len(data), len(res.Data), 100*float64(len(res.Data))/float64(len(data)), worst)
			assert.Less(t, len(res.Data), len(data))
			if q == "format=mp4" {
				assert.GreaterOrEqual(t, worst, 0.95)
			}
		}
	}
}

// chromiumPage loads a video in headless Chromium, seeks to its last frame
// and reports what the <video> element says.
const chromiumPage = `<!doctype html><html><body><video id=v src="v.mp4" muted playsinline preload=auto></video><pre id=o>pending</pre>
<script>
const v = document.getElementById('v'), o = document.getElementById('o');
let first = '';
v.addEventListener('loadeddata', () => { first = v.duration + ' ' + v.videoWidth + 'x' + v.videoHeight; v.currentTime = v.duration - 0.001; });
v.addEventListener('seeked', () => { o.textContent = 'ok ' + first + ' ' + v.readyState; });
v.addEventListener('error', () => { o.textContent = 'error ' + (v.error && v.error.message); });
</script></body></html>`

// TestMP4Chromium: a browser plays our files: Chromium's <video> reports
// the duration and size, and decodes the last frame after a seek; a broken
// file is reported as an error (the test can fail).
func TestMP4Chromium(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	res, _ := runMP4(t, graphicsGIF(t, 160, 120, 6, 4), "format=mp4&width=101", nil)
	for _, c := range []struct {
		data []byte
		want string
	}{
		{res.Data, "ok 0.24 102x76 4"},
		{res.Data[:len(res.Data)/3], "error"},
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "v.mp4"), c.data, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "t.html"), []byte(chromiumPage), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--allow-file-access-from-files",
			"--virtual-time-budget=20000", "--dump-dom", "file://"+filepath.Join(dir, "t.html")).Output()
		cancel()
		require.NoError(t, err)
		_, after, _ := strings.Cut(string(out), `<pre id="o">`)
		got, _, _ := strings.Cut(after, "<")
		assert.True(t, strings.HasPrefix(got, c.want), "chromium says %q, want %q", got, c.want)
	}
}

// noiseGIF is an n-frame w×h animation of random pixels: the worst case
// for a video encoder.
func noiseGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(w), uint64(n)))
	anim := &gif.GIF{}
	for range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for i := range f.Pix {
			f.Pix[i] = uint8(r.IntN(len(palette.Plan9)))
		}
		anim.Image = append(anim.Image, f)
		anim.Delay = append(anim.Delay, 4)
	}
	var b bytes.Buffer
	require.NoError(t, gif.EncodeAll(&b, anim))
	return b.Bytes()
}

// TestMP4SizeCheckedAlike: planning and encoding check the frame size
// against H.264 levels with one function, so they refuse alike: a plan
// refuses whatever the encoder would refuse for its size (a level not
// named by H.264 included, which the plan used to let through to the
// encoder).
func TestMP4SizeCheckedAlike(t *testing.T) {
	t.Parallel()
	cases := []struct {
		level   Level
		w, h    int
		wantErr error // nil: fits
	}{
		{"", 400, 300, nil},
		{"1.0", 176, 144, nil},
		{"1.0", 400, 300, ErrInvalidParam},
		{"", 8192, 4608, ErrJobTooLarge},
		{"9.9", 64, 64, ErrInvalidParam},
	}
	for _, c := range cases {
		name := string(c.level) + " " + strconv.Itoa(c.w) + "x" + strconv.Itoa(c.h)
		p := Params{Format: FormatMP4, Level: c.level}
		_, planErr := NewPlan(p, SourceInfo{Format: PNG, Width: c.w, Height: c.h}, "", &PlanOptions{Limits: Limits{MaxVideoPixels: 1 << 40}})
		_, encErr := mp4Level(c.level, c.w, c.h, time.Second)
		if c.wantErr == nil {
			assert.NoError(t, planErr, name)
			assert.NoError(t, encErr, name)
			continue
		}
		assert.ErrorIs(t, planErr, c.wantErr, name)
		assert.ErrorIs(t, encErr, c.wantErr, name)
		if planErr != nil && encErr != nil {
			assert.Equal(t, encErr.Error(), planErr.Error(), name)
		}
	}
}
