package s3store

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ClientOptions configure NewClient. A nil pointer or a zero field takes
// the default shown.
type ClientOptions struct {
	// Endpoint is the base URL of an S3-compatible service, such as
	// "http://127.0.0.1:9000" for MinIO. Default: $AWS_ENDPOINT_URL_S3, then
	// $AWS_ENDPOINT_URL, else AWS's own endpoint for Region.
	Endpoint string
	// Region is the signing region. Default: $AWS_REGION, then
	// $AWS_DEFAULT_REGION, else "us-east-1" (which most S3-compatible
	// stores accept).
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key. Most S3-compatible stores, and any endpoint given
	// as an IP address, need it. Default: false.
	PathStyle bool
	// Credentials, when set, are used as they are (for example a provider
	// built with aws-sdk-go-v2/config for instance roles). Default: static
	// credentials from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and
	// $AWS_SESSION_TOKEN.
	Credentials aws.CredentialsProvider
	// Anonymous sends unsigned requests (public buckets) when no credentials
	// are configured. Default: false (missing credentials are an error).
	Anonymous bool
	// HTTPClient sends the requests. Default: the SDK's client.
	HTTPClient *http.Client
	// RetryMaxAttempts is how many attempts one operation makes, retries
	// included, within the caller's deadline. Default: the SDK's (3).
	RetryMaxAttempts int
	// Getenv reads the environment. Default: os.Getenv.
	Getenv func(string) string
}

// NewClient builds an S3 client from opts and the environment alone. Unlike
// aws-sdk-go-v2/config.LoadDefaultConfig it reads no shared config or
// credentials files and makes no network calls (no instance metadata
// service, no SSO, no web identity): credentials are the static ones in
// $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and optionally
// $AWS_SESSION_TOKEN, or opts.Credentials. Both variables must be set, or
// neither with opts.Anonymous.
//
// With a custom Endpoint the client computes request checksums only where
// the API requires them, because several S3-compatible stores reject the
// SDK's default CRC32 trailers; against AWS the SDK's defaults apply.
func NewClient(opts *ClientOptions) (*s3.Client, error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	o.Endpoint = first(o.Endpoint, getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"))
	o.Region = first(o.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1")
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("s3store: endpoint %q: want http(s)://host[:port][/path]", o.Endpoint)
		}
	}
	creds := o.Credentials
	if creds == nil {
		id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		switch {
		case id != "" && secret != "":
			creds = credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))
		case id == "" && secret == "" && o.Anonymous:
			creds = aws.AnonymousCredentials{}
		case id == "" && secret == "":
			return nil, errors.New("s3store: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ask for anonymous access)")
		default:
			return nil, errors.New("s3store: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
		}
	}
	so := s3.Options{
		Region:           o.Region,
		UsePathStyle:     o.PathStyle,
		Credentials:      creds,
		RetryMaxAttempts: o.RetryMaxAttempts,
	}
	if o.Endpoint != "" {
		so.BaseEndpoint = aws.String(o.Endpoint)
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	if o.HTTPClient != nil {
		so.HTTPClient = o.HTTPClient
	}
	return s3.New(so), nil
}
