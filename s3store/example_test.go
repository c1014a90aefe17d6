package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/s3store"
)

// A location as given on a command line (-s3 bucket/prefix).
func ExampleParseLocation() {
	loc, err := s3store.ParseLocation("s3://images/derived/v1/")
	if err != nil {
		panic(err)
	}
	fmt.Println(loc.Bucket, loc.Prefix, loc)
	// Output: images derived/v1 images/derived/v1
}

// Originals and derived images in S3, here an in-process fake store.
func Example() {
	backend := s3mem.New()
	_ = backend.CreateBucket("images")
	store := httptest.NewServer(gofakes3.New(backend).Server())
	defer store.Close()

	client, err := s3store.NewClient(&s3store.ClientOptions{
		Endpoint:    store.URL,
		PathStyle:   true,
		Credentials: credentials.NewStaticCredentialsProvider("key", "secret", ""),
	})
	if err != nil {
		panic(err)
	}
	var img bytes.Buffer
	_ = png.Encode(&img, image.NewGray(image.Rect(0, 0, 400, 300)))
	_, err = client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("images"), Key: aws.String("originals/photos/cat.png"),
		Body: bytes.NewReader(img.Bytes()),
	})
	if err != nil {
		panic(err)
	}

	origin, err := s3store.NewOrigin(client, "images", "originals", nil)
	if err != nil {
		panic(err)
	}
	cache, err := s3store.NewCache(client, "images", "derived", nil)
	if err != nil {
		panic(err)
	}
	defer cache.Close(context.Background())
	h, err := imageopto.New(origin, &imageopto.Options{Cache: cache})
	if err != nil {
		panic(err)
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/photos/cat.png?width=100", nil))
	cfg, _ := png.DecodeConfig(rec.Body)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), cfg.Width, cfg.Height)

	_ = cache.Flush(context.Background()) // the derived image is now in the bucket
	fmt.Printf("%+v\n", cache.Counters())
	// Output:
	// 200 image/png 100 75
	// {Hits:0 Misses:1 Expired:0 Sets:1 Dropped:0 TooLarge:0 Errors:0 Pending:0 PendingBytes:0}
}
