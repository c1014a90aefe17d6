package s3store

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClient(t *testing.T) {
	t.Parallel()
	type seen struct{ path, auth string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.Path, r.Header.Get("Authorization")}
		s3Error(w, 404, "NoSuchKey")
	}))
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)

	tests := []struct {
		name     string
		env      map[string]string
		opts     ClientOptions
		wantErr  string
		wantAuth string // substring of Authorization; "" for none
	}{
		{
			name:     "credentials and endpoint from the environment",
			env:      map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_ENDPOINT_URL_S3": srv.URL, "AWS_REGION": "eu-west-3"},
			opts:     ClientOptions{PathStyle: true},
			wantAuth: "Credential=AKID/",
		},
		{
			name:     "region defaults to us-east-1",
			env:      map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_ENDPOINT_URL": srv.URL},
			opts:     ClientOptions{PathStyle: true},
			wantAuth: "/us-east-1/s3/aws4_request",
		},
		{
			name:     "explicit credentials win",
			env:      map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"},
			opts:     ClientOptions{Endpoint: srv.URL, PathStyle: true, Credentials: credentials.NewStaticCredentialsProvider("OTHER", "S", "")},
			wantAuth: "Credential=OTHER/",
		},
		{
			name: "anonymous",
			opts: ClientOptions{Endpoint: srv.URL, PathStyle: true, Anonymous: true},
		},
		{
			name:    "no credentials",
			opts:    ClientOptions{Endpoint: srv.URL},
			wantErr: "no credentials",
		},
		{
			name:    "half the credentials",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKID"},
			opts:    ClientOptions{Endpoint: srv.URL, Anonymous: true},
			wantErr: "both",
		},
		{
			name:    "bad endpoint",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"},
			opts:    ClientOptions{Endpoint: "ftp://example.com"},
			wantErr: "endpoint",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Getenv = func(k string) string { return tt.env[k] }
			opts.HTTPClient = &http.Client{Transport: tr}
			opts.RetryMaxAttempts = 1
			c, err := NewClient(&opts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			_, err = c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b.jpg")})
			require.True(t, isNoSuchKey(err), "%v", err)
			s := <-got
			assert.Equal(t, "/bkt/a/b.jpg", s.path)
			if tt.wantAuth == "" {
				assert.Empty(t, s.auth)
			} else {
				assert.Contains(t, s.auth, tt.wantAuth)
			}
		})
	}
}

func TestParseLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Location
		wantErr bool
	}{
		{in: "bucket", want: Location{Bucket: "bucket"}},
		{in: "bucket/", want: Location{Bucket: "bucket"}},
		{in: "bucket/derived", want: Location{Bucket: "bucket", Prefix: "derived"}},
		{in: "bucket/a/b/c/", want: Location{Bucket: "bucket", Prefix: "a/b/c"}},
		{in: "s3://my.bucket-1/imgs", want: Location{Bucket: "my.bucket-1", Prefix: "imgs"}},
		{in: "bucket//x", want: Location{Bucket: "bucket", Prefix: "x"}},
		{in: "", wantErr: true},
		{in: "/prefix", wantErr: true},
		{in: "s3://", wantErr: true},
		{in: "bu cket/x", wantErr: true},
		{in: "bucket/a/../b", wantErr: true},
		{in: "bucket/a//b", wantErr: true},
		{in: "bucket/a\\b", wantErr: true},
		{in: "bucket/a\x01", wantErr: true},
		{in: "bucket/\xff", wantErr: true},
		{in: "bucket/" + strings.Repeat("p", 600), wantErr: true},
		{in: strings.Repeat("b", 256), wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLocation(tt.in)
		if tt.wantErr {
			assert.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		again, err := ParseLocation(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again, "String round trip")
	}
}
