using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// One store per backend and test class, seeded once with two patients' records ("a" as in the examples, "b" with
/// a few values changed so searches can tell them apart), a named patient for string search, a MedicationAdministration naming its medication by reference and a RiskAssessment
/// (none of our seven types has a number parameter; RiskAssessment.probability is one).
/// </summary>
public sealed class SeededStore<TBackend> : IAsyncLifetime where TBackend : IStoreBackend, new()
{
    private TestStore? _db;

    public IResourceStore Store => _db!.Store;

    public async Task InitializeAsync()
    {
        _db = await new TBackend().OpenAsync();
        var resources = Examples.Record("a").Concat(Examples.Record("b").Select(ChangeB)).ToList();
        resources.Add(new Patient
        {
            Id = "named",
            Gender = AdministrativeGender.Other,
            Name = [new HumanName { Family = "Müller", Given = ["Zoë"] }],
        });
        // R4's "medication" parameter is the reference form; the coded form is searched with "code".
        resources.Add(new MedicationAdministration
        {
            Id = "by-reference",
            Status = MedicationAdministration.MedicationAdministrationStatusCodes.Completed,
            Medication = new ResourceReference("Medication/tisagenlecleucel"),
            Subject = new ResourceReference("Patient/named"),
            Effective = new FhirDateTime("2021-09-14"),
        });
        resources.Add(new RiskAssessment
        {
            Id = "risk",
            Status = ObservationStatus.Final,
            Subject = new ResourceReference("Patient/a-patient"),
            Prediction = [new RiskAssessment.PredictionComponent { Probability = new FhirDecimal(0.25m) }],
        });
        await Store.TransactionAsync(async (tx, ct) =>
        {
            foreach (var resource in resources)
                await tx.UpdateAsync(resource, null, ct);
            return resources.Count;
        });
    }

    private static Resource ChangeB(Resource resource)
    {
        switch (resource)
        {
            case Patient p:
                p.Gender = AdministrativeGender.Female;
                break;
            case Observation { Id: "b-cd22" } o:
                o.Value = new Quantity(40, "%", "http://unitsofmeasure.org");
                o.Status = ObservationStatus.Amended;
                break;
            case Condition c:
                c.ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "remission");
                c.Onset = new FhirDateTime("2020-11-03");
                break;
        }
        return resource;
    }

    public async Task DisposeAsync()
    {
        if (_db is not null)
            await _db.DisposeAsync();
    }
}
