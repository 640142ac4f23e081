import { createClient, type Client, type ClientOptions } from '@orrery/grpc';
import { CatalogService, IngestService, RecommendationService } from '@orrery/proto';

/** IngestService (Track, TrackBatch, TrackStream) at `address` (ORRERY_INGEST_ADDRESS). */
export function createIngestClient(address: string, options?: ClientOptions): Client<typeof IngestService> {
  return createClient(IngestService, address, options);
}

/** CatalogService (UpsertItems, UpsertUsers, DeleteItem, ForgetUser) at `address` (ORRERY_INGEST_ADDRESS). */
export function createCatalogClient(address: string, options?: ClientOptions): Client<typeof CatalogService> {
  return createClient(CatalogService, address, options);
}

/** RecommendationService (Recommend, SimilarItems, Popular) at `address` (ORRERY_RECOMMENDER_ADDRESS). */
export function createRecommendationClient(address: string, options?: ClientOptions): Client<typeof RecommendationService> {
  return createClient(RecommendationService, address, options);
}
