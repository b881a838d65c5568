extension TimelineEvent {
    /// The time the page draws and lists the event at: nil when the document
    /// gives none, and also when any of its values is not a finite number, so
    /// a bad value upstream lands in the unplaced list instead of at a `nan`
    /// coordinate or a made-up place on the axis.
    var drawnTime: EventTime? {
        guard let t = time, t.utc.isFinite, t.earliest.isFinite, t.latest.isFinite else { return nil }
        return t
    }
}
