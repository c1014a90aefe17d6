package metadata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// XMP namespaces.
const (
	nsRDF       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
	nsDC        = "http://purl.org/dc/elements/1.1/"
	nsPhotoshop = "http://ns.adobe.com/photoshop/1.0/"
	nsXMPRights = "http://ns.adobe.com/xap/1.0/rights/"
	nsPLUS      = "http://ns.useplus.org/ldf/xmp/1.0/"
)

// qname matches an element or attribute name by namespace URI or, for
// packets that forgot to declare the namespace, by its customary prefix
// (encoding/xml leaves an undeclared prefix in Name.Space).
type qname struct{ ns, prefix, local string }

func (q qname) is(n xml.Name) bool {
	return n.Local == q.local && (n.Space == q.ns || n.Space == q.prefix)
}

var (
	rdfRDF           = qname{nsRDF, "rdf", "RDF"}
	rdfDescription   = qname{nsRDF, "rdf", "Description"}
	rdfAlt           = qname{nsRDF, "rdf", "Alt"}
	rdfSeq           = qname{nsRDF, "rdf", "Seq"}
	rdfBag           = qname{nsRDF, "rdf", "Bag"}
	rdfLi            = qname{nsRDF, "rdf", "li"}
	rdfResource      = qname{nsRDF, "rdf", "resource"}
	xmlLang          = qname{nsXML, "xml", "lang"}
	dcRights         = qname{nsDC, "dc", "rights"}
	dcCreator        = qname{nsDC, "dc", "creator"}
	psCredit         = qname{nsPhotoshop, "photoshop", "Credit"}
	xmpWebStatement  = qname{nsXMPRights, "xmpRights", "WebStatement"}
	plusLicensor     = qname{nsPLUS, "plus", "Licensor"}
	plusLicensorName = qname{nsPLUS, "plus", "LicensorName"}
)

// Bounds of the XMP tree kept in memory. A packet is at most 64 KiB, so
// these only matter for pathological nesting.
const (
	maxXMPDepth = 64
	maxXMPNodes = 1 << 14
)

// xnode is an element of a parsed XMP packet.
type xnode struct {
	name xml.Name
	attr []xml.Attr
	kids []*xnode
	text []byte // character data directly inside the element
}

// xmpFields are the values found in an XMP packet, already cleaned (see
// cleanText), so that checking whether a field is set costs nothing.
type xmpFields struct {
	notice, credit, webStatement string
	creators, licensors          []string
}

// parseXMP reads the copyright fields from the top-level rdf:Description
// elements of an XMP packet. Only the properties of the described resource
// are looked at, not those of nested resources (such as the documents listed
// in xmpMM:Pantry). The first non-empty occurrence of a property wins. A
// malformed packet yields whatever was read before the error.
func parseXMP(packet []byte) xmpFields {
	var f xmpFields
	rdf := findRDF(parseXMLTree(packet), 0)
	if rdf == nil {
		return f
	}
	for _, desc := range rdf.kids {
		for _, a := range desc.attr {
			switch {
			case dcRights.is(a.Name) && f.notice == "":
				f.notice = cleanText(a.Value)
			case dcCreator.is(a.Name) && f.creators == nil:
				f.creators = cleanList([]string{a.Value})
			case psCredit.is(a.Name) && f.credit == "":
				f.credit = cleanText(a.Value)
			case xmpWebStatement.is(a.Name) && f.webStatement == "":
				f.webStatement = cleanText(a.Value)
			}
		}
		for _, p := range desc.kids {
			switch {
			case dcRights.is(p.name) && f.notice == "":
				f.notice = cleanText(simpleValue(p))
			case dcCreator.is(p.name) && f.creators == nil:
				f.creators = cleanList(listValues(p))
			case psCredit.is(p.name) && f.credit == "":
				f.credit = cleanText(simpleValue(p))
			case xmpWebStatement.is(p.name) && f.webStatement == "":
				f.webStatement = cleanText(simpleValue(p))
			case plusLicensor.is(p.name) && f.licensors == nil:
				f.licensors = cleanList(licensorNames(p))
			}
		}
	}
	return f
}

// parseXMLTree parses b into a tree rooted at an unnamed node, leniently:
// encoding/xml in non-strict mode, unknown entities left as text (entities
// declared in a DTD are never expanded), and parsing stops quietly at the
// first error, keeping what was read. Depth and node count are bounded.
func parseXMLTree(b []byte) *xnode {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = charsetReader
	root := &xnode{}
	stack := []*xnode{root}
	nodes, skip := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return root
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 || len(stack) > maxXMPDepth || nodes >= maxXMPNodes {
				skip++
				continue
			}
			n := &xnode{name: t.Name, attr: t.Attr}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
			nodes++
		case xml.EndElement:
			if skip > 0 {
				skip--
			} else if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if top := stack[len(stack)-1]; skip == 0 && len(top.text) < maxRawBytes {
				top.text = append(top.text, t[:min(len(t), maxRawBytes-len(top.text))]...)
			}
		}
	}
}

// charsetReader lets packets that declare a Latin-1 encoding through.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(io.LimitReader(in, maxSegmentPayload))
		return strings.NewReader(decodeLatin1(b)), err
	}
	return nil, errors.New("metadata: unsupported XMP encoding")
}

// findRDF returns the first rdf:RDF element in document order.
func findRDF(n *xnode, depth int) *xnode {
	if depth > maxXMPDepth {
		return nil
	}
	for _, k := range n.kids {
		if rdfRDF.is(k.name) {
			return k
		}
		if r := findRDF(k, depth+1); r != nil {
			return r
		}
	}
	return nil
}

func attrValue(n *xnode, q qname) (string, bool) {
	for _, a := range n.attr {
		if q.is(a.Name) {
			return a.Value, true
		}
	}
	return "", false
}

// container returns the rdf:Alt, rdf:Seq or rdf:Bag inside n, if any.
func container(n *xnode) *xnode {
	for _, k := range n.kids {
		if rdfAlt.is(k.name) || rdfSeq.is(k.name) || rdfBag.is(k.name) {
			return k
		}
	}
	return nil
}

// itemText is the value of a simple property or array item: its
// rdf:resource (a URI-valued property) or its text.
func itemText(n *xnode) string {
	if v, ok := attrValue(n, rdfResource); ok {
		return v
	}
	return string(n.text)
}

// simpleValue reads a text property. A language alternative (or, leniently,
// any array) gives its x-default item, else its first non-empty item.
func simpleValue(n *xnode) string {
	c := container(n)
	if c == nil {
		return itemText(n)
	}
	first := ""
	for _, li := range c.kids {
		if !rdfLi.is(li.name) {
			continue
		}
		if lang, _ := attrValue(li, xmlLang); strings.EqualFold(strings.TrimSpace(lang), "x-default") {
			return itemText(li)
		}
		if first == "" {
			first = cleanText(itemText(li))
		}
	}
	return first
}

// listValues reads an array of text (or, leniently, a single text value).
func listValues(n *xnode) []string {
	c := container(n)
	if c == nil {
		return []string{itemText(n)}
	}
	var out []string
	for _, li := range c.kids {
		if rdfLi.is(li.name) {
			out = append(out, itemText(li))
		}
	}
	return out
}

// licensorNames reads the LicensorName of each structure in a plus:Licensor
// array (or of a lone structure). A structure may be written as
// rdf:parseType="Resource", as a nested rdf:Description, or with its fields
// as attributes.
func licensorNames(n *xnode) []string {
	items := []*xnode{n}
	if c := container(n); c != nil {
		items = items[:0]
		for _, li := range c.kids {
			if rdfLi.is(li.name) {
				items = append(items, li)
			}
		}
	}
	var out []string
	for _, it := range items {
		if v := cleanText(licensorName(it, true)); v != "" {
			out = append(out, v)
			if len(out) == MaxListItems {
				break
			}
		}
	}
	return out
}

func licensorName(n *xnode, descend bool) string {
	if v, ok := attrValue(n, plusLicensorName); ok {
		return v
	}
	for _, k := range n.kids {
		if plusLicensorName.is(k.name) {
			return simpleValue(k)
		}
	}
	if descend {
		for _, k := range n.kids {
			if rdfDescription.is(k.name) {
				if v := licensorName(k, false); cleanText(v) != "" {
					return v
				}
			}
		}
	}
	return ""
}

// The XMP packet written by InsertJPEG. It is assembled from these pieces
// so that its exact size is known without building it (see xmpSize).
const (
	xmpPacketHead = "<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n" +
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n" +
		" <rdf:RDF xmlns:rdf=\"" + nsRDF + "\">\n" +
		"  <rdf:Description rdf:about=\"\"\n" +
		"    xmlns:dc=\"" + nsDC + "\"\n" +
		"    xmlns:photoshop=\"" + nsPhotoshop + "\"\n" +
		"    xmlns:xmpRights=\"" + nsXMPRights + "\"\n" +
		"    xmlns:plus=\"" + nsPLUS + "\">\n"
	xmpPacketTail = "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"

	xmpCreatorOpen   = "   <dc:creator>\n    <rdf:Seq>\n"
	xmpCreatorClose  = "    </rdf:Seq>\n   </dc:creator>\n"
	xmpCreatorLi     = "     <rdf:li>"
	xmpCreatorLiEnd  = "</rdf:li>\n"
	xmpRightsOpen    = "   <dc:rights>\n    <rdf:Alt>\n     <rdf:li xml:lang=\"x-default\">"
	xmpRightsClose   = "</rdf:li>\n    </rdf:Alt>\n   </dc:rights>\n"
	xmpCreditOpen    = "   <photoshop:Credit>"
	xmpCreditClose   = "</photoshop:Credit>\n"
	xmpWebOpen       = "   <xmpRights:WebStatement>"
	xmpWebClose      = "</xmpRights:WebStatement>\n"
	xmpLicensorOpen  = "   <plus:Licensor>\n    <rdf:Seq>\n"
	xmpLicensorClose = "    </rdf:Seq>\n   </plus:Licensor>\n"
	xmpLicensorLi    = "     <rdf:li rdf:parseType=\"Resource\"><plus:LicensorName>"
	xmpLicensorLiEnd = "</plus:LicensorName></rdf:li>\n"

	// maxXMPPacket is the largest packet that fits one APP1 segment.
	maxXMPPacket = maxSegmentPayload - len(xmpHeader)
)

// escapedLen is len(escapeText(s)).
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			n += len("&amp;") - 1
		case '<':
			n += len("&lt;") - 1
		case '>':
			n += len("&gt;") - 1
		}
	}
	return n
}

// appendEscaped appends s as XML character data. Only &, < and > need
// escaping in element content; cleanText has removed CR and every
// character XML cannot carry.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// xmpSize is the exact size of the packet buildXMP writes for c.
func xmpSize(c *Copyright) int {
	n := len(xmpPacketHead) + len(xmpPacketTail)
	if len(c.Creators) > 0 {
		n += len(xmpCreatorOpen) + len(xmpCreatorClose)
		for _, v := range c.Creators {
			n += len(xmpCreatorLi) + escapedLen(v) + len(xmpCreatorLiEnd)
		}
	}
	if c.Notice != "" {
		n += len(xmpRightsOpen) + escapedLen(c.Notice) + len(xmpRightsClose)
	}
	if c.Credit != "" {
		n += len(xmpCreditOpen) + escapedLen(c.Credit) + len(xmpCreditClose)
	}
	if c.WebStatement != "" {
		n += len(xmpWebOpen) + escapedLen(c.WebStatement) + len(xmpWebClose)
	}
	if len(c.Licensors) > 0 {
		n += len(xmpLicensorOpen) + len(xmpLicensorClose)
		for _, v := range c.Licensors {
			n += len(xmpLicensorLi) + escapedLen(v) + len(xmpLicensorLiEnd)
		}
	}
	return n
}

// buildXMPPacket writes the XMP packet for a normalised c.
func buildXMPPacket(c *Copyright) []byte {
	b := make([]byte, 0, xmpSize(c))
	b = append(b, xmpPacketHead...)
	if len(c.Creators) > 0 {
		b = append(b, xmpCreatorOpen...)
		for _, v := range c.Creators {
			b = append(b, xmpCreatorLi...)
			b = appendEscaped(b, v)
			b = append(b, xmpCreatorLiEnd...)
		}
		b = append(b, xmpCreatorClose...)
	}
	if c.Notice != "" {
		b = append(appendEscaped(append(b, xmpRightsOpen...), c.Notice), xmpRightsClose...)
	}
	if c.Credit != "" {
		b = append(appendEscaped(append(b, xmpCreditOpen...), c.Credit), xmpCreditClose...)
	}
	if c.WebStatement != "" {
		b = append(appendEscaped(append(b, xmpWebOpen...), c.WebStatement), xmpWebClose...)
	}
	if len(c.Licensors) > 0 {
		b = append(b, xmpLicensorOpen...)
		for _, v := range c.Licensors {
			b = append(b, xmpLicensorLi...)
			b = appendEscaped(b, v)
			b = append(b, xmpLicensorLiEnd...)
		}
		b = append(b, xmpLicensorClose...)
	}
	return append(b, xmpPacketTail...)
}

// buildXMP returns the APP1 payload (header and packet) for a normalised c.
func buildXMP(c *Copyright) []byte {
	return append([]byte(xmpHeader), buildXMPPacket(c)...)
}

// fitXMP shortens the values of a cleaned c until its XMP packet fits one
// segment: the value with the longest escaped form is halved (at a
// character boundary, then trimmed) and dropped when nothing is left. It
// does nothing when the packet already fits, which keeps normalize
// idempotent.
func fitXMP(c *Copyright) {
	size := xmpSize(c)
	if size <= maxXMPPacket {
		return
	}
	type slot struct {
		p    *string
		esc  int // escapedLen(*p)
		wrap int // bytes around the value that go when a scalar becomes empty
	}
	slots := []slot{
		{&c.Notice, escapedLen(c.Notice), len(xmpRightsOpen) + len(xmpRightsClose)},
		{&c.Credit, escapedLen(c.Credit), len(xmpCreditOpen) + len(xmpCreditClose)},
		{&c.WebStatement, escapedLen(c.WebStatement), len(xmpWebOpen) + len(xmpWebClose)},
	}
	for i := range c.Creators {
		slots = append(slots, slot{&c.Creators[i], escapedLen(c.Creators[i]), 0})
	}
	for i := range c.Licensors {
		slots = append(slots, slot{&c.Licensors[i], escapedLen(c.Licensors[i]), 0})
	}
	// size tracks xmpSize(c), except that emptied list items still count
	// their wrapper until compact drops them: an upper bound.
	for size > maxXMPPacket {
		big := 0
		for i := range slots {
			if slots[i].esc > slots[big].esc {
				big = i
			}
		}
		s := &slots[big]
		if s.esc == 0 {
			break // unreachable: wrappers alone are far below the limit
		}
		*s.p = strings.TrimSpace(truncateUTF8(*s.p, len(*s.p)/2))
		e := escapedLen(*s.p)
		size += e - s.esc
		s.esc = e
		if e == 0 {
			size -= s.wrap
		}
	}
	c.Creators = compact(c.Creators)
	c.Licensors = compact(c.Licensors)
}

// compact drops empty items; it returns nil rather than an empty slice.
func compact(l []string) []string {
	var out []string
	for _, v := range l {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
