using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Tests;

/// <summary>The parser on its own: the query model it builds and the errors it names.</summary>
public sealed class SearchQueryParseTests
{
    private static SearchQuery Parse(string type, string query) => SearchQuery.Parse(type, SearchContract<SqliteBackend>.Pairs(query));

    [Theory]
    [InlineData("Observation", "date=2021-13", "'2021-13' in 'date' is not a date")]
    [InlineData("Observation", "value-quantity=abc", "'abc' in 'value-quantity' is not a number")]
    [InlineData("Observation", "value-quantity=5|x", "must be [prefix]number or [prefix]number|system|code")]
    [InlineData("Observation", "_count=-1", "_count must be a non-negative whole number")]
    [InlineData("Observation", "_total=some", "_total must be none, estimate or accurate")]
    [InlineData("Observation", "code:exact=x", "The modifier ':exact' is not supported on token parameter 'code'")]
    [InlineData("Observation", "subject.identifier=x", "must name the target type")]
    [InlineData("Observation", "subject:Medication=Medication/1", "cannot point at 'Medication'")]
    [InlineData("Observation", "_sort=subject", "'subject' is not a sortable parameter")]
    [InlineData("Observation", "_include=Observation:nope", "'nope' is not a reference parameter of Observation")]
    [InlineData("Observation", "_include=Patient:link", "the source type must be Observation")]
    [InlineData("Patient", "_has:Observation:code:status=final", "'code' is not a reference parameter of Observation")]
    [InlineData("Patient", "_has:Observation=x", "must have the form _has:[type]:[reference parameter]:[parameter]")]
    [InlineData("Observation", "subject=not a reference", "is not a reference")]
    [InlineData("Observation", "code=|", "names neither a system nor a code")]
    [InlineData("Observation", "_cursor=abc", "not a page cursor")]
    [InlineData("Observation", "code:missing=maybe", "must be true or false")]
    public void Malformed_values_fail_with_a_message_naming_them(string type, string query, string message)
    {
        var error = Assert.Throws<SearchQueryException>(() => Parse(type, query));
        Assert.Contains(error.Errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var error = Assert.Throws<SearchQueryException>(() => Parse("Observation", "date=x&_count=y"));
        Assert.Equal(2, error.Errors.Count);
    }

    [Fact]
    public void An_unknown_resource_type_is_an_error() =>
        Assert.Throws<SearchQueryException>(() => Parse("Spaceship", "_id=1"));

    [Fact]
    public void Commas_are_ors_unless_escaped_and_repeats_are_ands()
    {
        var query = Parse("Observation", @"code=a,b\,c&code=d");

        Assert.Equal(2, query.Criteria.Count);
        var first = Assert.IsType<ParameterCriterion>(query.Criteria[0]);
        Assert.Equal(["a", "b,c"], first.Values.Cast<TokenValue>().Select(v => v.Code));
    }

    [Fact]
    public void Prefixes_and_precision_become_ranges()
    {
        var query = Parse("Observation", "value-quantity=ge5.4|http://unitsofmeasure.org|mg&date=lt2021-03");

        var quantity = (NumberValue)((ParameterCriterion)query.Criteria[0]).Values[0];
        Assert.Equal((SearchPrefix.Ge, 5.35m, 5.45m, "http://unitsofmeasure.org", "mg"), (quantity.Prefix, quantity.Low, quantity.High, quantity.System, quantity.Code));
        var date = (DateValue)((ParameterCriterion)query.Criteria[1]).Values[0];
        Assert.Equal(SearchPrefix.Lt, date.Prefix);
        Assert.Equal(DateTimeOffset.Parse("2021-03-01T00:00:00Z").ToUnixTimeMilliseconds(), date.Low);
    }

    [Fact]
    public void Chains_and_has_nest_their_inner_criterion()
    {
        var chain = Assert.IsType<ChainCriterion>(Parse("Observation", "subject:Patient.identifier=x").Criteria[0]);
        Assert.Equal(("subject", "Patient", "identifier"), (chain.Reference.Name, chain.TargetType, ((ParameterCriterion)chain.Inner).Parameter.Name));

        var has = Assert.IsType<HasCriterion>(Parse("Patient", "_has:Observation:patient:_has:Provenance:target:agent=Practitioner/1").Criteria[0]);
        Assert.IsType<HasCriterion>(has.Inner);
    }

    [Fact]
    public void Link_parameters_keep_everything_but_the_cursor()
    {
        var query = Parse("Observation", "code=x&_count=5&_cursor=12.5");

        Assert.Equal(new PageCursor(12, 5), query.Cursor);
        Assert.Equal(["code", "_count"], query.LinkParameters.Select(p => p.Key));
    }

    [Theory]
    [InlineData(SeekPosition.Kinds.Id, "o-1", 0L, null)]
    [InlineData(SeekPosition.Kinds.Number, "o.2-x", -62135596800000L, null)]
    [InlineData(SeekPosition.Kinds.Text, "p-3", 0L, "smith|jones.é")]
    [InlineData(SeekPosition.Kinds.Text, "p-4", 0L, "")]
    [InlineData(SeekPosition.Kinds.Missing, "p-5", 0L, null)]
    public void A_seek_cursor_reads_back_as_written(SeekPosition.Kinds kind, string id, long number, string? text)
    {
        var cursor = new PageCursor(12, 40) { After = new SeekPosition(kind, id, number, text) };

        var query = Parse("Observation", "_sort=date&_cursor=" + Uri.EscapeDataString(cursor.ToString()));

        Assert.Equal(cursor, query.Cursor);
    }

    [Theory]
    [InlineData("12.5.")]
    [InlineData("12.5.!!")]
    [InlineData("12.5.OXxv")]
    [InlineData("12.5.MXxvLTF8eA")]
    [InlineData("12.5.OXxvLTF8")]
    [InlineData("12.5.MHx8")]
    [InlineData("12.5.MHxvLTF8eA.1")]
    public void A_seek_cursor_this_server_did_not_write_is_refused(string cursor)
    {
        var error = Assert.Throws<SearchQueryException>(() => Parse("Observation", "_cursor=" + cursor));

        Assert.Contains("_cursor", error.Message, StringComparison.Ordinal);
    }
}
